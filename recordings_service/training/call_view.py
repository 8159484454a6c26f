"""A trainer's view of one call: its metadata without the customer, the agent as trainers see agents, the latest
score, whether it may be used for training, its nominations and clips, and the redacted transcript (the
redacted audio is played from `/api/v1/recordings/<id>/audio/redacted`, while it can be: a call whose audio has gone
from the object store is still read, its transcript and clips, and says so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.errors import NotFound
from recordings_service.evaluations.lookup import LATEST_FIRST
from recordings_service.models import Evaluation, Recording, TrainingClip
from recordings_service.models.evaluation import EvaluationState
from recordings_service.models.recording import RecordingStatus
from recordings_service.recordings import get_playable_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.training.agents import agent_names
from recordings_service.training.eligibility import exclusions_of
from recordings_service.training.nominations import NominationRow, list_nominations
from recordings_service.training_rules import TrainingRules
from recordings_service.transcription.transcripts import SEGMENT_FIELDS, view_transcript


@dataclass(frozen=True)
class TrainingCall:
    recording: Recording
    agent: str
    score: float | None  # the latest evaluation's, in percent
    evaluated: bool
    exclusion: str | None  # why trainers may not use it; None when they may
    nominations: list[NominationRow]
    clips: list[TrainingClip]
    transcript: list[dict[str, Any]]  # the redacted twin's segments; empty until the call is transcribed

    @property
    def audio_missing(self) -> bool:
        """The stored audio has gone from the object store (reconcile found it so): nothing can play or cut it."""
        return self.recording.status == RecordingStatus.MISSING_OBJECT

    @property
    def audio_playable(self) -> bool:
        """Whether the redacted audio can be played: it is muted along the redacted transcript (a call trainers may
        not use has none, or may not be played to them) and made from the stored audio."""
        return self.exclusion is None and not self.audio_missing


def view_call(
    session: Session, envelope: Envelope, *, actor: Actor, recording_id: str, rules: TrainingRules
) -> TrainingCall:
    """The call as a trainer works with it; reading its redacted transcript is audited (`transcript.viewed`). A
    deleted call is not found; one whose audio is missing is read without it (it was not found either)."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    if recording.status == RecordingStatus.DELETED:
        raise NotFound(f"recording {recording_id} not found")
    exclusion = exclusions_of(session, [recording.id], rules=rules)[recording.id]
    segments: list[dict[str, Any]] = []
    if exclusion is None:
        view = view_transcript(session, actor=actor, recording_id=recording.id, redacted=True)
        segments = [{name: segment.get(name) for name in SEGMENT_FIELDS} for segment in view.segments]
    scores = list(
        session.scalars(
            select(Evaluation.score)
            .where(Evaluation.recording_id == recording.id, Evaluation.state == EvaluationState.SUBMITTED)
            .order_by(*LATEST_FIRST)
            .limit(1)
        )
    )
    clips = session.scalars(
        select(TrainingClip)
        .where(TrainingClip.recording_id == recording.id, TrainingClip.removed_at.is_(None))
        .order_by(TrainingClip.start_s, TrainingClip.id)
    )
    return TrainingCall(
        recording=recording,
        agent=agent_names(session, envelope, show_agents=rules.show_agents)(recording.agent_ref),
        score=scores[0] if scores else None,
        evaluated=bool(scores),
        exclusion=exclusion.value if exclusion is not None else None,
        nominations=list_nominations(session, actor=actor, recording_id=recording.id, limit=201, training_rules=rules),
        clips=list(clips),
        transcript=segments,
    )
