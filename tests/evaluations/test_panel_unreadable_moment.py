"""Found by exploratory testing: an evidence moment the server cannot read as seconds, though a browser's number
field sends it ("12.0000000000000000000000000000000", past the length read; "1e999", past a float), answered the
evaluation panel's submit with a bare 422 error page, and every answer and comment typed was lost. It is refused as
the panel's other refusals are: what was typed stays as the draft (that moment left out), and the panel says why."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Evaluation
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from tests.web.reader_language import post_finnish, shown_after


@pytest.mark.parametrize("moment", ["12.0000000000000000000000000000000", "1e999"])
def test_an_unreadable_moment_keeps_what_was_typed_as_the_draft_and_says_why(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope, moment: str
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope, duration_s=60.0)
    form = published_form(session, actor_of(supervisor))
    greeting, needs, price = form.questions
    client = client_of(app, supervisor)
    page = f"/calls/{call.id}"
    typed = {
        "form_id": form.id,
        f"answers.{greeting.id}": "no",
        f"answers.{needs.id}": "4",
        f"answers.{price.id}": "yes",
        f"comments.{needs.id}": "MY-TYPED-QUESTION-COMMENT",
        f"at.{needs.id}": moment,
        f"at.{price.id}": "2.5",
        "comment": "MY-TYPED-OVERALL-COMMENT",
    }

    response = post_finnish(client, f"{page}/evaluation", typed, token_from=page)

    assert response.status_code == 302, response.get_data(as_text=True)[-300:]
    assert response.headers["Location"].startswith(f"{page}?form_id={form.id}")
    shown = shown_after(client, response)
    assert "anna hetki sekunteina puhelun alusta" in shown
    panel = client.get(response.headers["Location"], headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "MY-TYPED-QUESTION-COMMENT" in panel and "MY-TYPED-OVERALL-COMMENT" in panel
    assert f'name="answers.{greeting.id}" value="no" checked' in panel
    draft = session.scalars(select(Evaluation).where(Evaluation.recording_id == call.id)).one()
    assert (draft.state, draft.score, draft.comment) == ("draft", None, "MY-TYPED-OVERALL-COMMENT")
    assert {a.question_id: a.at_s for a in draft.answers} == {greeting.id: None, needs.id: None, price.id: 2.5}
