"""Found by exploratory testing: the evaluation panel of a second tab, saving its draft after the first tab had
submitted the evaluation, showed the refusal in English on a Finnish page ("Luonnosta ei voitu tallentaa: this
evaluation is submitted…"): the conflict had no `why` of its own and the draft view answered invalid input only."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import scoring
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.web.reader_language import FINNISH, post_as


def test_a_draft_saved_after_the_evaluation_was_submitted_is_refused_in_the_pages_language(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope)
    form = published_form(session, actor_of(supervisor))
    login(client, supervisor)
    path = f"/calls/{call.id}"
    assert post_form(client, f"{path}/evaluation/draft", {"form_id": form.id}, token_from=path).status_code == 200
    values = ["yes", "5", "no"]
    answers = {question.id: scoring.Answer(value) for question, value in zip(form.questions, values, strict=True)}
    scoring.evaluate_call(session, actor=actor_of(supervisor), recording_id=call.id, form_id=form.id, answers=answers)
    session.commit()

    # As the panel's script sends it.
    panel = FINNISH | {"Accept": "application/json"}
    refused = post_as(client, f"{path}/evaluation/draft", {"form_id": form.id}, token_from=path, headers=panel)

    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "conflict"
    assert body["message"].startswith("tämä arviointi on lähetetty sillä välin"), body
