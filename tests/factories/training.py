"""Factories for training-library tests: calls trainers may use (training purpose, a redacted twin made by the
real redaction from a transcript full of personal data), scores, and the trainer and supervisor principals."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import Customer, Evaluation, Recording, TrainingClip, Transcript
from recordings_service.models.account import Role
from recordings_service.redaction.audio import spans_to_mute
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training.clips import clip_key, window_spans
from recordings_service.training.sampling import Sample, SampleCriteria, pull_sample
from recordings_service.training_rules import TrainingRules
from recordings_service.transcript_text import twin_of
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import STEREO, make_recording

CALL_DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
# Stands in for audio where a test never plays it (sampling reads rows only).
NO_AUDIO = b"RIFF-not-really-audio-" + b"x" * 64
TRUST = {"avg_logprob": -0.2, "no_speech_prob": 0.01, "suspect": False}
# What the stereo fixture call is made to say: every kind of personal data trainers must never get.
SAID = [
    ("agent", 0.5, 3.5, "Northern Energy, this is Anna. How can I help with the contract?"),
    ("customer", 3.9, 8.9, "my identity code is 131052-308T and my phone is 040 123 4567"),
    ("agent", 9.3, 14.4, "I can offer a fixed price for the contract, what is your name?"),
    ("customer", 14.8, 17.3, "my name is Matti Virtanen and the account FI21 1234 5600 0007 85 pays"),
    ("agent", 17.7, 23.0, "The new contract starts next month, thank you for calling."),
]
# Said only in the original: redaction takes it out, so no trainer may find a call by it.
ONLY_IN_ORIGINAL = "Virtanen"


def segments(said: list[tuple[str, float, float, str]] = SAID) -> list[dict[str, Any]]:
    return [
        {"speaker": speaker, "start": start, "end": end, "text": text, "words": [], **TRUST}
        for speaker, start, end, text in said
    ]


def training_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    audio: Path | bytes = NO_AUDIO,
    transcribed: bool = True,
    said: list[tuple[str, float, float, str]] = SAID,
    timed: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> Recording:
    """A stored call with the training purpose, kept for years, transcribed with its redacted twin (made from
    `said`, without word timings, or from `timed`: segments with word timings as an engine gives them)."""
    values: dict[str, Any] = {
        "purposes": ["training"],
        "started_at": CALL_DAY,
        "retain_until": CALL_DAY + timedelta(days=3 * 365),
        "agent_ref": "agent-" + secrets.token_hex(3),
        "status": "transcribed" if transcribed else "stored",
        "duration_s": 23.28,
        **overrides,
    }
    recording = make_recording(session, store, envelope, audio=audio, **values)
    if transcribed:
        draft = TranscriptDraft(
            engine="fake",
            model="fake",
            language=recording.language,
            detected_language=None,
            segments=segments(said) if timed is None else timed,
            processing_s=0.1,
        )
        save_transcript(session, recording_id=recording.id, draft=draft)
    session.flush()
    return recording


def sample(
    session: Session, envelope: Envelope, actor: Actor, rules: TrainingRules | None = None, **criteria: Any
) -> Sample:
    """The sample `actor` pulls with these criteria (`SampleCriteria`'s fields), under `rules` (the defaults)."""
    chosen = SampleCriteria.model_validate(criteria)
    return pull_sample(session, envelope, actor=actor, criteria=chosen, rules=rules or TrainingRules())


def trainer(session: Session) -> Actor:
    return actor_of(make_user(session, role=Role.TRAINER))


def supervisor(session: Session) -> Actor:
    return actor_of(make_user(session, role=Role.QA_SUPERVISOR))


def scorer(session: Session) -> Callable[[Recording, float | None], Evaluation]:
    """`score(recording, 55.0)`: an evaluation of the call with that total, on one published form, each by an
    evaluator of its own (one evaluator has one evaluation of a call per form version)."""
    form = published_form(session, actor_of(make_user(session, role=Role.QA_SUPERVISOR)))

    def score(recording: Recording, value: float | None) -> Evaluation:
        evaluator = make_user(session, role=Role.QA_SUPERVISOR)
        evaluation = Evaluation(
            recording_id=recording.id,
            form_id=form.id,
            evaluator_id=evaluator.id,
            agent_ref=recording.agent_ref,
            queue=recording.queue,
            score=value,
        )
        session.add(evaluation)
        session.flush()
        return evaluation

    return score


def stereo_call(session: Session, store: ObjectStore, envelope: Envelope, **overrides: Any) -> Recording:
    """The stereo fixture call (23.3 s of speech), for tests that cut and play clips."""
    return training_call(session, store, envelope, audio=STEREO, **overrides)


def call_of_customer(session: Session, store: ObjectStore, envelope: Envelope, **overrides: Any) -> Recording:
    """The stereo fixture call of customer CRM-TRAINING-1, committed (the API's requests read it)."""
    customer = Customer(customer_ref="CRM-TRAINING-1")
    session.add(customer)
    session.flush()
    recording = stereo_call(session, store, envelope, customer_id=customer.id, **overrides)
    session.commit()
    return recording


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sampled_calls(page: str) -> list[str]:
    """The ids of the calls a sample page drew, in the page's order."""
    return re.findall(r'href="/training/calls/([0-9A-Z]{26})"', page)


def clip_row(
    session: Session, recording: Recording, author: Actor, *, start_s: float = 17.7, end_s: float = 23.0
) -> TrainingClip:
    """An available clip's row, without audio (for tests that never play it): muted where the call's redacted twin
    is, so it is current."""
    transcript = session.query(Transcript).filter_by(recording_id=recording.id).one()
    muted = window_spans(spans_to_mute(twin_of(session, transcript) or []), start_s=start_s, end_s=end_s)
    clip = TrainingClip(
        recording_id=recording.id,
        start_s=start_s,
        end_s=end_s,
        title="A clip",
        opus_key=clip_key(recording.id, "none", "opus"),
        opus_size=1,
        mp3_key=clip_key(recording.id, "none", "mp3"),
        mp3_size=1,
        muted_spans=muted,
        created_by=author.id,
    )
    session.add(clip)
    session.flush()
    return clip
