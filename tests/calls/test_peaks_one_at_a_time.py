"""A web worker computes the waveform of one call not cached yet at a time; a request meanwhile is told 503 with
Retry-After, is not audited as a view, and is served when asked again. Found by exploratory testing: each viewer of
a long call not yet cached decoded it whole in a thread of its own, and eight of them held every web thread."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.audit import events
from tests.factories.reviews import make_transcribed_call
from web.ui import call_page

JSON = {"Accept": "application/json"}


def test_a_waveform_asked_for_while_another_is_computed_is_503_then_served(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    path = f"/calls/{call.id}/peaks.json"

    assert call_page.PEAKS_SLOTS.acquire(timeout=60)  # another call's waveform being computed
    try:
        busy = client.get(path, headers=JSON)  # as the call page's script asks
    finally:
        call_page.PEAKS_SLOTS.release()

    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert busy.get_json()["error"] == "unavailable"
    assert events(session, "recording.waveform_viewed", call.id) == []
    served = client.get(path, headers=JSON)
    assert served.status_code == 200 and served.get_json()["peaks"]
    assert len(events(session, "recording.waveform_viewed", call.id)) == 1
