"""Transcripts at rest: sealed under the recording's data key, readable only through the one accessor.

The raw rows are read with plain SQL, as a copy of the database would be, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import DecryptionFailed
from recordings_service.transcript_text import rekey_transcript, segments_of, twin_of
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from recordings_service.transcription.search_index import INDEX_TABLE
from tests.factories.accounts import login, make_user
from tests.factories.recordings import make_recording
from web import cli, cli_support

SAID = [
    ("agent", 0.5, 3.0, "Northern Energy, good morning."),
    ("customer", 3.5, 8.0, "My thermostat reading is wrong, write to maija.virtanen@example.com please."),
]
# Words of the transcript that must not be readable from the raw row.
WORDS = ("northern", "morning", "thermostat", "reading", "virtanen", "example.com")


def _segment(speaker: str, start: float, end: float, said: str) -> dict[str, Any]:
    return {
        "speaker": speaker,
        "start": start,
        "end": end,
        "text": said,
        "words": [{"start": start, "end": end, "text": word, "probability": 0.9} for word in said.split()],
        "avg_logprob": -0.2,
        "no_speech_prob": 0.01,
        "compression_ratio": 1.1,
        "suspect": False,
        "suspect_reasons": [],
    }


def _transcribed(session: Session, runtime: Runtime) -> Recording:
    recording = make_recording(session, runtime.store, runtime.envelope)
    draft = TranscriptDraft(
        engine="faster-whisper",
        model="whisper-base",
        language="en",
        detected_language=None,
        segments=[_segment(*line) for line in SAID],
        processing_s=1.0,
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    recording.status = "transcribed"
    session.flush()
    return recording


def _raw_row(session: Session, recording_id: str) -> str:
    """Every column of the recording's transcript row as a copy of the database shows it, in one string."""
    row = session.execute(text("SELECT * FROM transcripts WHERE recording_id = :id"), {"id": recording_id}).one()
    parts = []
    for value in row:
        if isinstance(value, bytes | memoryview):
            parts.append(bytes(value).decode("latin-1"))
        else:
            parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
    return "\n".join(parts).lower()


def _texts(segments: list[dict[str, Any]] | None) -> str:
    return " ".join(segment["text"] for segment in segments or []).lower()


def test_a_stored_transcript_row_holds_none_of_its_words_and_every_reader_still_gets_them(
    session: Session, runtime: Runtime, client: FlaskClient
) -> None:
    recording = _transcribed(session, runtime)

    raw = _raw_row(session, recording.id)
    assert [word for word in WORDS if word in raw] == []

    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    assert "maija.virtanen@example.com" in _texts(segments_of(session, transcript))
    twin = _texts(twin_of(session, transcript))
    assert "thermostat" in twin and "virtanen" not in twin

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    response = client.get(f"/api/v1/recordings/{recording.id}/transcript?format=txt")
    assert response.status_code == 200
    assert "maija.virtanen@example.com" in response.text


def test_the_search_index_keeps_the_redacted_twins_words_only(session: Session, runtime: Runtime) -> None:
    recording = _transcribed(session, runtime)
    indexed = " ".join(
        session.scalars(text(f"SELECT text FROM {INDEX_TABLE} WHERE recording_id = :id"), {"id": recording.id})
    ).lower()
    assert "thermostat" in indexed  # what full-text search must have, in clear
    assert "virtanen" not in indexed and "example.com" not in indexed


def test_destroying_the_recordings_wrapped_key_makes_its_transcript_unreadable(
    session: Session, runtime: Runtime
) -> None:
    recording = _transcribed(session, runtime)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    recording.wrapped_data_key = b""  # what deletion does (crypto-shredding)
    session.flush()
    with pytest.raises(DecryptionFailed):
        segments_of(session, transcript)
    with pytest.raises(DecryptionFailed):
        twin_of(session, transcript)


def test_sealed_text_opens_only_as_what_it_was_sealed_as(session: Session, runtime: Runtime) -> None:
    first, second = _transcribed(session, runtime), _transcribed(session, runtime)
    mine, other = (
        session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
        for recording in (first, second)
    )
    # The unredacted text put where the twin belongs (which trainers read) does not open as the twin.
    mine.sealed_redacted_segments = mine.sealed_segments
    with pytest.raises(DecryptionFailed):
        twin_of(session, mine)
    # Another recording's transcript does not open under this recording's key.
    mine.sealed_segments = other.sealed_segments
    with pytest.raises(DecryptionFailed):
        segments_of(session, mine)


def test_a_new_data_key_seals_the_transcript_again(session: Session, runtime: Runtime) -> None:
    recording = _transcribed(session, runtime)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    before = (segments_of(session, transcript), twin_of(session, transcript))
    new_key, _ = runtime.envelope.new_data_key(recording.id)

    rekey_transcript(session, recording=recording, wrapped_data_key=new_key.wrapped)
    session.flush()

    assert recording.wrapped_data_key == new_key.wrapped
    assert (segments_of(session, transcript), twin_of(session, transcript)) == before


def test_a_transcript_stored_in_clear_before_sealing_is_sealed_by_the_cli(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope)
    said = [_segment(*line) for line in SAID]
    twin = [{**said[0]}, {**said[1], "text": "My thermostat reading is wrong, write to [EMAIL] please."}]
    # The columns a transcript was written to before sealing.
    session.add(
        Transcript(
            recording_id=recording.id,
            engine="faster-whisper",
            model="whisper-base",
            language="en",
            plain_segments=said,
            plain_redacted_segments=twin,
        )
    )
    session.commit()
    assert "thermostat" in _raw_row(session, recording.id)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    assert _texts(segments_of(session, transcript)) == _texts(said)  # readable meanwhile

    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    result = CliRunner().invoke(cli.main, ["transcripts", "encrypt", "--batch", "1"])

    assert result.exit_code == 0, result.output
    assert "sealed transcripts=1" in result.output
    session.expire_all()
    assert [word for word in WORDS if word in _raw_row(session, recording.id)] == []
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    assert segments_of(session, transcript) == said
    assert twin_of(session, transcript) == twin
    again = CliRunner().invoke(cli.main, ["transcripts", "encrypt"])
    assert again.exit_code == 0 and "sealed transcripts=0" in again.output
    # The rewrite is audited (found by exploratory testing: it wrote no event), once: the second run sealed nothing.
    sealed = session.scalars(select(AuditEvent).where(AuditEvent.action == "transcripts.sealed")).all()
    assert [(event.actor_name, event.details) for event in sealed] == [
        ("cli", {"transcripts": 1, "first_id": transcript.id, "last_id": transcript.id})
    ]
