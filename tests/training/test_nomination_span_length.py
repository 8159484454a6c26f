"""A nominated span is what a trainer cuts a clip from, so it is at least as long as the shortest clip (found by
review: a span of 0.2 s was taken, and the trainer it was meant for could only be refused cutting it)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user, post_form
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.factories.training import bearer, training_call

NOMINATIONS = "/api/v1/training/nominations"


def test_a_span_shorter_than_a_clip_is_refused_naming_its_end(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    qa = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="training"))
    session.commit()

    def nominate(start_s: float, end_s: float) -> tuple[int, dict[str, str]]:
        body = {"recording_id": call.id, "kind": "good_example", "start_s": start_s, "end_s": end_s}
        answer = client.post(NOMINATIONS, headers=qa, json=body)
        return answer.status_code, answer.get_json()

    status, refused = nominate(2.0, 2.2)
    assert status == 422 and (refused["field"], refused["error"]) == ("end_s", "too_short"), refused
    assert nominate(2.3, 3.3)[0] == 201  # 3.3 - 2.3 is 0.9999999999999996 in binary, and a whole second


def test_the_call_page_says_how_long_a_span_must_be(app: Flask, session: Session, runtime: Runtime) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    qa = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    path = f"/calls/{call.id}"

    form = {"kind": "good_example", "start_s": "4", "end_s": "4.5", "note": "the close"}
    refused = post_form(qa, f"{path}/nominations", form, token_from=path)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "a span is at least 1 s long" in html
    assert 'value="4.5" aria-invalid="true"' in html
