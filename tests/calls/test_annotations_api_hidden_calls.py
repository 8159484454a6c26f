"""Found by the last review: `GET /api/v1/recordings/<id>/annotations` of a deleted call answered 200 with no items
(and a comment sent with a wrong body 422), which showed that the call had existed. A deleted call's comments are
not found for every role, as its page is; a restricted call's are not found for whoever may not see it, the refusal
audited, as its other routes do."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.models import Recording, User
from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.privacy import OFFICER
from tests.factories.reviews import make_transcribed_call

ROLES = [Role.QA_SUPERVISOR, Role.COMPLIANCE]


def bearer(session: Session, user: User) -> dict[str, str]:
    _, plain = tokens.create_token(session, actor=SYSTEM, user=user, scope="evaluation")
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope)


@pytest.mark.parametrize("role", ROLES)
def test_a_deleted_calls_comments_are_not_found_for_every_role(
    client: FlaskClient, session: Session, store: S3ObjectStore, call: Recording, role: Role
) -> None:
    delete_recording(session, store, recording_id=call.id, reason="retention", actor=OFFICER)
    session.commit()
    reader = make_user(session, role=role)
    headers = bearer(session, reader)
    path = f"/api/v1/recordings/{call.id}/annotations"

    listed = client.get(path, headers=headers)
    added = client.post(path, json={"at_s": 3.0, "text": "listened again"}, headers=headers)
    malformed = client.post(path, json={"at_s": "soon"}, headers=headers)

    for answer in (listed, added, malformed):
        assert answer.status_code == 404, answer.get_json()
        assert answer.get_json()["error"] == "not_found"
    assert [event for event in events(session, "annotation.added", call.id) if event.actor_id == reader.id] == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_restricted_calls_comments_are_not_found_for_a_supervisor_and_the_refusal_is_audited(
    client: FlaskClient, session: Session, call: Recording, method: str
) -> None:
    call.restricted = True  # GDPR Art. 18: compliance's only
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    session.commit()

    answer = getattr(client, method)(
        f"/api/v1/recordings/{call.id}/annotations",
        json={"at_s": 3.0, "text": "x"} if method == "post" else None,
        headers=bearer(session, supervisor),
    )

    assert answer.status_code == 404
    refused = events(session, "recording.access_denied", call.id)
    assert [(event.actor_id, event.details) for event in refused] == [(supervisor.id, {"reason": "not_visible"})]


def test_compliance_reads_and_comments_on_a_restricted_call(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    call.restricted = True
    officer = make_user(session, role=Role.COMPLIANCE)
    session.commit()
    path = f"/api/v1/recordings/{call.id}/annotations"

    added = client.post(path, json={"at_s": 3.0, "text": "checked the restriction"}, headers=bearer(session, officer))
    listed = client.get(path, headers=bearer(session, officer))

    assert added.status_code == 201
    assert [item["text"] for item in listed.get_json()["items"]] == ["checked the restriction"]
    assert listed.get_json()["items"][0]["author"] == officer.username
