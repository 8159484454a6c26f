"""Found by exploratory testing: a call of the customer deleted (by another officer's erasure, or the sweep) after
the rectification form was opened was refused as "not a call of this request's customer" (422 other_customer): a
deletion takes the call's customer away. It is now a conflict saying the call has been deleted, on the page in the
reader's language, beside the call's field, and nothing is corrected."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, request_with_two_calls
from tests.factories.recordings import make_token
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish


def test_correcting_a_call_deleted_since_says_it_was_deleted(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, deleted, _ = request_with_two_calls(session, store, envelope, "rectification")
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = f"/subjects/{request.id}"
    delete_recording(session, store, recording_id=deleted.id, reason="erasure", actor=OFFICER)
    session.commit()

    answer = client.post(
        f"/api/v1/subject-requests/{request.id}/fulfil",
        json={"recording_id": deleted.id, "metadata": {"queue": "moving"}},
        headers=officer,
    )
    refused = post_finnish(client, f"{page}/fulfil", {"recording_id": deleted.id, "queue": "moving"}, token_from=page)

    assert answer.status_code == 409, answer.json
    assert (answer.json["error"], answer.json["field"]) == ("conflict", "recording_id")
    assert "has been deleted" in answer.json["message"]
    assert refused.status_code == 409
    text = visible_text(refused.get_data(as_text=True))
    assert "puhelu on jo poistettu" in text and "ei kuulu tämän pyynnön asiakkaalle" not in text, text
