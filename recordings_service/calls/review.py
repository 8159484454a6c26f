"""Reviewing a call: open it with its transcript, comments and checks; verify the transcript; comment on a moment.

Every use case loads the recording through `get_playable_recording`, so a recording hidden from the
actor stays hidden here too (and the refusal carries its audit event).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Forbidden, Invalid, NotFound
from recordings_service.models import Annotation, LegalHold, Recording, SegmentVerification, Transcript, User
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.holds import active_holds_on
from recordings_service.recordings import get_live_recording, get_playable_recording
from recordings_service.redaction.transcripts import Redaction, redactions_of
from recordings_service.transcript_text import segments_of, twin_of
from recordings_service.transcription.pipeline import CHECKED_FIELDS
from recordings_service.transcription.transcripts import TranscriptView, view_transcript
from recordings_service.written_text import refuse_controls_in_text

MAX_ANNOTATION_CHARS = 2000
# Whisper's word probability under which a word is shown as doubtful.
LOW_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Check:
    """Who verified something against the audio, and when."""

    by: str
    at: datetime


@dataclass(frozen=True)
class Comment:
    id: str
    at_s: float
    text: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class CallReview:
    recording: Recording
    transcript: TranscriptView | None
    transcript_check: Check | None
    segment_checks: dict[int, Check]
    comments: list[Comment]
    redactions: list[Redaction]  # where personal data was said: kind and time, never the value
    holds: list[LegalHold] = field(default_factory=list)  # active legal holds: why it cannot be deleted
    # Whether the redacted audio can be made: it is muted along the redacted transcript, which comes with the
    # transcription.
    redacted_audio_ready: bool = False

    @property
    def audio_missing(self) -> bool:
        """The stored audio has gone from the object store (reconcile found it so): nothing can play it, while
        the transcript and comments are still read."""
        return self.recording.status == RecordingStatus.MISSING_OBJECT


def open_call(
    session: Session, *, actor: Actor, recording_id: str, with_transcript: bool, redacted: bool
) -> CallReview:
    """Everything the call page shows (the redacted transcript when `redacted`); reading it is audited."""
    recording = reviewed_recording(session, actor=actor, recording_id=recording_id)
    transcript = None
    if with_transcript:
        try:
            transcript = view_transcript(
                session, actor=actor, recording_id=recording.id, redacted=redacted, format="page"
            )
        except NotFound:
            transcript = None  # not transcribed yet: the page says so
    transcript_check, segment_checks = transcript_checks(session, transcript.transcript if transcript else None)
    return CallReview(
        recording=recording,
        transcript=transcript,
        transcript_check=transcript_check,
        segment_checks=segment_checks,
        comments=list_comments(session, recording_id=recording.id),
        redactions=redactions_of(twin_of(session, transcript.transcript) or []) if transcript else [],
        holds=active_holds_on(session, recording) if recording.legal_hold else [],
        redacted_audio_ready=_has_redacted_twin(session, recording.id),
    )


def reviewed_recording(session: Session, *, actor: Actor, recording_id: str) -> Recording:
    """The call as its page and comments are read: one hidden from `actor` is not found (the refusal audited), and
    so is a deleted one, for every role (its tombstone is what remains of it; answering otherwise would show that
    it existed)."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    if recording.status == RecordingStatus.DELETED:
        raise NotFound(f"recording {recording_id} not found")
    return recording


def read_comments(session: Session, *, actor: Actor, recording_id: str) -> list[Comment]:
    """The comments on moments of a call `actor` may review, in call order; audited as `recording.comments_read`
    (staff write what they heard, and may quote the call)."""
    recording = reviewed_recording(session, actor=actor, recording_id=recording_id)
    comments = list_comments(session, recording_id=recording.id)
    record_event(
        session,
        actor=actor,
        action="recording.comments_read",
        object_type="recording",
        object_id=recording.id,
        details={"comments": len(comments)},
    )
    return comments


def verify_transcript(session: Session, *, actor: Actor, recording_id: str, segment_index: int | None) -> None:
    """Mark the whole transcript, or one segment of it, as checked against the audio by `actor`."""
    if actor.id is None:
        raise Forbidden("only a signed-in person can verify a transcript against the audio")
    recording = get_live_recording(session, actor=actor, recording_id=recording_id)
    # Locked: two people checking the same segment at once each found no mark and both inserted one, and the
    # later failed on the mark's unique key (a 500 on PostgreSQL); now the later waits and updates the mark.
    transcript = session.scalar(
        select(Transcript)
        .where(Transcript.recording_id == recording.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if transcript is None:
        raise NotFound(f"recording {recording_id} has no transcript yet")
    now = utcnow()
    if segment_index is None:
        transcript.verified_by = actor.id
        transcript.verified_at = now
    else:
        segments = segments_of(session, transcript)
        if not 0 <= segment_index < len(segments):
            raise Invalid("segment", "no such segment in this transcript", code="out_of_range")
        check = session.scalar(
            select(SegmentVerification).where(
                SegmentVerification.transcript_id == transcript.id,
                SegmentVerification.segment_index == segment_index,
            )
        )
        if check is None:
            check = SegmentVerification(transcript_id=transcript.id, segment_index=segment_index)
            session.add(check)
        check.segment_sha256 = segment_sha256(segments[segment_index])
        check.verified_by = actor.id
        check.verified_at = now
    session.flush()
    record_event(
        session,
        actor=actor,
        action="transcript.verified",
        object_type="recording",
        object_id=recording.id,
        details={"transcript_id": transcript.id, "segment": segment_index},
    )


def add_annotation(session: Session, *, actor: Actor, recording_id: str, at_s: float, text: str) -> Annotation:
    """A comment at `at_s` seconds into the call: text in lines, as `written_text` holds it (shown to everyone who
    reviews the call)."""
    if actor.id is None:
        raise Forbidden("only a signed-in person can comment on a call")
    recording = get_live_recording(session, actor=actor, recording_id=recording_id)
    if not math.isfinite(at_s) or not 0 <= at_s <= recording.duration_s:
        raise Invalid("at_s", f"must be between 0 and {recording.duration_s:g} seconds", code="out_of_range")
    body = text.strip()
    if not body or len(body) > MAX_ANNOTATION_CHARS:
        raise Invalid("text", f"write 1 to {MAX_ANNOTATION_CHARS} characters", code="invalid_length")
    refuse_controls_in_text("text", body, what="a comment")
    annotation = Annotation(recording_id=recording.id, at_s=round(at_s, 3), text=body, author_id=actor.id)
    session.add(annotation)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="annotation.added",
        object_type="recording",
        object_id=recording.id,
        details={"annotation_id": annotation.id, "at_s": annotation.at_s},
    )
    return annotation


def segment_sha256(segment: dict[str, Any]) -> str:
    """What a segment check vouches for (`CHECKED_FIELDS`), as a hash."""
    canonical = json.dumps({key: segment.get(key) for key in CHECKED_FIELDS}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def transcript_checks(session: Session, transcript: Transcript | None) -> tuple[Check | None, dict[int, Check]]:
    """The whole transcript's check, and each segment's that still matches its segment (a re-transcribed
    segment needs checking again)."""
    if transcript is None:
        return None, {}
    whole = None
    if transcript.verified_by is not None and transcript.verified_at is not None:
        whole = Check(by=_username(session, transcript.verified_by), at=transcript.verified_at)
    rows = session.execute(
        select(SegmentVerification, User.username)
        .join(User, User.id == SegmentVerification.verified_by)
        .where(SegmentVerification.transcript_id == transcript.id)
    ).all()
    segments = segments_of(session, transcript)
    return whole, {
        check.segment_index: Check(by=username, at=check.verified_at)
        for check, username in rows
        if check.segment_index < len(segments) and segment_sha256(segments[check.segment_index]) == check.segment_sha256
    }


def list_comments(session: Session, *, recording_id: str) -> list[Comment]:
    rows = session.execute(
        select(Annotation, User.username)
        .join(User, User.id == Annotation.author_id)
        .where(Annotation.recording_id == recording_id)
        .order_by(Annotation.at_s, Annotation.created_at)
    ).all()
    return [
        Comment(id=note.id, at_s=note.at_s, text=note.text, author=username, created_at=note.created_at)
        for note, username in rows
    ]


def _has_redacted_twin(session: Session, recording_id: str) -> bool:
    twin = exists().where(Transcript.recording_id == recording_id, Transcript.has_redacted_twin)
    return bool(session.scalar(select(twin)))


def _username(session: Session, user_id: str) -> str:
    return session.scalar(select(User.username).where(User.id == user_id)) or user_id
