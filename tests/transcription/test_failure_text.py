"""A failed job's `last_error` and log lines name a database error without the data it failed on."""

from __future__ import annotations

import io
import logging
from dataclasses import replace

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jobs import transcription as transcription_job
from recordings_service.config import Settings
from recordings_service.logs import configure_logging
from recordings_service.models import TranscriptionJob, User
from recordings_service.runtime import Runtime
from recordings_service.transcription.engines import Audio, EngineResult
from recordings_service.transcription.queue import enqueue_transcription
from tests.factories.recordings import MONO, make_recording
from tests.factories.transcription import leftovers_removed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")
# What a failing statement might carry: a name in the unique key, and an identity code in another column.
KEY_MARKER = "Maija Virtanen"
VALUE_MARKER = "131052-308T"


def duplicate_user_error(session: Session) -> IntegrityError:
    """A real unique violation from the database under test, its key and parameters holding the markers."""
    rows = [{"id": f"0000000000000000000000000{n}", "username": KEY_MARKER, "role": VALUE_MARKER} for n in (1, 2)]
    savepoint = session.begin_nested()
    try:
        session.execute(insert(User), rows)
    except IntegrityError as exc:
        savepoint.rollback()
        return exc
    raise AssertionError("the duplicate username was accepted")


def test_database_errors_hide_their_parameters(session: Session) -> None:
    error = duplicate_user_error(session)
    assert VALUE_MARKER not in str(error)


class FailingEngine:
    """Fails as a real worker can, with a database error (Whisper itself is not under test)."""

    name = model = "failing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult:
        raise self.error


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_database_error_leaves_no_data_in_last_error_or_the_log(
    session: Session, runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    error = duplicate_user_error(session)
    monkeypatch.setattr(transcription_job, "engine_for", lambda _settings: FailingEngine(error))
    recording = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    job = enqueue_transcription(session, recording)
    session.commit()
    output = io.StringIO()
    handler = configure_logging(replace(settings, log_format=log_format, log_level="INFO"), stream=output)
    try:
        transcription_job.transcribe_pending(runtime, budget_s=30)
    finally:
        logging.getLogger().removeHandler(handler)
    session.expire_all()
    failed = session.get(TranscriptionJob, job.id)
    assert failed is not None and failed.last_error is not None
    assert failed.last_error.startswith("IntegrityError")
    logged = output.getvalue()
    assert "transcription attempt failed" in logged and "IntegrityError" in logged and "Traceback" in logged
    for marker in (KEY_MARKER, VALUE_MARKER):
        assert marker not in failed.last_error
        assert marker not in logged
