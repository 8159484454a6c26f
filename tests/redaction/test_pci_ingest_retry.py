"""Found by an integrator's exploratory pass: the telephony system's retry of a call whose card data had been muted
since was answered with the muted copy's SHA-256, where the first answer had given the hash of the audio sent, and
`already_ingested` says the same audio was stored: a client checking the hash took it for corruption. A retry is
answered with the hash of the audio as sent, as the inbox's receipt is."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.runtime import Runtime
from recordings_service.storage.spool import file_sha256
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin, secure
from tests.factories.recordings import call_metadata, make_token, post_ingest


def test_a_retry_after_the_card_was_muted_answers_the_hash_of_the_audio_sent(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    token = make_token(session)
    metadata = call_metadata()
    first = post_ingest(client, token, metadata, audio=CARD_CALL)
    assert first.status_code == 201, first.get_json()
    recording = session.get_one(Recording, first.get_json()["id"])
    add_transcript(session, recording, twin=card_twin())
    secure(runtime, session, recording)
    session.commit()
    assert recording.sha256 != file_sha256(CARD_CALL)  # the stored copy is muted

    again = post_ingest(client, token, metadata, audio=CARD_CALL)

    assert again.status_code == 200, again.get_json()
    assert again.get_json()["already_ingested"] is True
    assert again.get_json()["sha256"] == first.get_json()["sha256"] == file_sha256(CARD_CALL)
