"""A retried ingest after the PCI card-data replacement re-hashed the stored original."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.runtime import Runtime
from recordings_service.storage.spool import file_sha256
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin, secure
from tests.factories.recordings import call_metadata, make_token, post_ingest


def test_the_same_original_posted_after_the_card_data_was_muted_is_the_same_call(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    token = make_token(session)
    metadata = call_metadata(customer_ref=...)
    first = post_ingest(client, token, metadata, audio=CARD_CALL)
    assert first.status_code == 201, first.get_json()
    recording = session.get_one(Recording, first.get_json()["id"])
    add_transcript(session, recording, twin=card_twin())
    old_key = secure(runtime, session, recording)
    session.commit()
    assert old_key is not None and recording.sha256 != recording.pci_original_sha256 == file_sha256(CARD_CALL)
    runtime.store.delete(old_key)

    again = post_ingest(client, token, metadata, audio=CARD_CALL)

    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == recording.id
