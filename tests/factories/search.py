"""Factories for search tests: transcribed calls on a day of their own, evaluations of them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls import transcript_matches
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.db import new_id, utcnow
from recordings_service.models import Evaluation, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.recordings import make_recording


def random_day() -> datetime:
    """A day no other test uses: SQLite tests may commit for real, so each test confines its queries."""
    return datetime(2015, 1, 1, 8, tzinfo=UTC) + timedelta(
        days=secrets.randbelow(3000), seconds=secrets.randbelow(3600)
    )


def on_day(day: datetime, **overrides: Any) -> SearchFilters:
    return SearchFilters(started_from=day, started_to=day + timedelta(days=1), **overrides)


QA = Actor(id=None, name="qa", role=Role.QA_SUPERVISOR)
# The three ways PostgreSQL's search may go (transcript_matches.calls_saying): each must find the same calls.
PLANS = ("rare words", "few calls", "walk newest first")


def found(session: Session, day: datetime, query: str = "", *, actor: Actor = QA, **filters: Any) -> list[str]:
    """The ids of the calls a search of `query` finds among those on `day`, newest first."""
    page = search_calls(session, actor=actor, query=query, filters=on_day(day, **filters), limit=200)
    return [item.recording.id for item in page.items]


def force_plan(monkeypatch: pytest.MonkeyPatch, plan: str) -> None:
    if plan != "rare words":
        monkeypatch.setattr(transcript_matches, "RARE_SEGMENTS", -1)  # the segments probe never suffices
    if plan == "walk newest first":
        monkeypatch.setattr(transcript_matches, "FEW_CALLS", -1)


def transcribed_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    started_at: datetime,
    lines: list[str],
    language: str = "en",
    step_s: float = 7.5,
    **overrides: Any,
) -> Recording:
    """A stored call whose transcript says `lines`, one segment each, `step_s` apart, agent and customer in turn."""
    recording = make_recording(
        session,
        store,
        envelope,
        audio=b"RIFF",
        language=language,
        started_at=started_at,
        **{"status": RecordingStatus.TRANSCRIBED, **overrides},
    )
    segments = [
        {
            "speaker": "agent" if index % 2 == 0 else "customer",
            "start": index * step_s,
            "end": index * step_s + step_s - 0.5,
            "text": line,
            "words": [],
            "avg_logprob": -0.2,
            "no_speech_prob": 0.01,
            "suspect": [],
        }
        for index, line in enumerate(lines)
    ]
    draft = TranscriptDraft(
        engine="fake", model="fake", language=language, detected_language=None, segments=segments, processing_s=0.1
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    return recording


def evaluate(session: Session, recording: Recording, *, evaluator: User, score: float | None) -> Evaluation:
    form = EvaluationForm(family_id=new_id(), version=1, name="Search test form")
    session.add(form)
    session.flush()
    evaluation = Evaluation(
        recording_id=recording.id,
        form_id=form.id,
        evaluator_id=evaluator.id,
        agent_ref=recording.agent_ref,
        queue=recording.queue,
        score=score,
        submitted_at=utcnow(),
    )
    session.add(evaluation)
    session.flush()
    return evaluation
