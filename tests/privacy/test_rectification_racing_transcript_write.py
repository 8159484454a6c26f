"""A rectification that meets a transcript write in progress (a redaction refresh, a transcription) keeps that
write. Found by review: the correction read the transcript's segments without a lock, then wrote them all back
once the other write had committed, so the other write's text was silently undone. The transcript is now read
under a row lock, afresh. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.db import utcnow
from recordings_service.models import Transcript
from recordings_service.privacy import subjects
from recordings_service.privacy.rectification import SegmentFix, rectify
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcript_text import segments_of
from recordings_service.transcription.pipeline import store_segments
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.privacy import OFFICER, ORG_ZONE, customer, reviewed
from tests.factories.recordings import make_recording

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_rectify_race_") as engine:
        yield engine


def test_a_correction_waits_for_a_transcript_write_and_keeps_it(
    engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        person = customer(session)
        call = reviewed(session, make_recording(session, store, envelope, customer_id=person.id))
        request = subjects.create_request(
            session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=utcnow()
        )
        session.commit()

    # The other write (a redaction refresh, say) holds the transcript, as it does while it works.
    writing = sessions()
    transcript = writing.scalars(select(Transcript).where(Transcript.recording_id == call.id).with_for_update()).one()
    refreshed = copy.deepcopy(segments_of(writing, transcript))
    refreshed[0] = {**refreshed[0], "text": "welcome to northern energy, refreshed"}
    store_segments(writing, transcript, refreshed)
    outcome: dict[str, Any] = {}

    def correct() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            rectify(
                session,
                actor=OFFICER,
                request_id=request.id,
                recording_id=call.id,
                transcript=[SegmentFix(1, "my thermostat reading is wrong")],
                zone=ORG_ZONE,
            )
            session.commit()
            outcome["done"] = True

    thread = threading.Thread(target=correct)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the correction")
    writing.commit()
    writing.close()
    thread.join(timeout=20)

    assert outcome.get("done") is True
    with sessions() as session:
        kept = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
        texts = [segment["text"] for segment in segments_of(session, kept)]
    assert texts == ["welcome to northern energy, refreshed", "my thermostat reading is wrong"]
