"""`POST /api/v1/evaluations` names which of the body's two ids was not found (both came as a bare 404, so a client
could not tell a mistyped call from a mistyped form)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, evaluation_token, published_form
from tests.factories.recordings import make_recording

UNKNOWN = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


def test_an_unknown_call_or_form_is_a_404_naming_its_field(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    call = make_recording(session, store, envelope)
    headers = evaluation_token(session, supervisor)

    for body, field in (
        ({"recording_id": UNKNOWN, "form_id": form.id, "answers": []}, "recording_id"),
        ({"recording_id": call.id, "form_id": UNKNOWN, "answers": []}, "form_id"),
    ):
        answer = client.post("/api/v1/evaluations", json=body, headers=headers)
        assert answer.status_code == 404, answer.get_json()
        assert (answer.get_json()["error"], answer.get_json()["field"]) == ("not_found", field)
