"""What a trainer sees of clips: each clip's state (available, outdated, withdrawn, removed), its redacted
transcript over the clip, its agent as shown to trainers; the library's list; and playing a clip's audio."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import id_cursor
from recordings_service.errors import Invalid, NotFound, Refusal
from recordings_service.models import Recording, TrainingClip, Transcript, User
from recordings_service.models.recording import RecordingStatus
from recordings_service.playback import record_served
from recordings_service.recordings import get_playable_recording, visible_to
from recordings_service.storage.encryption import Envelope, PlaintextReader, plaintext_range
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training.agents import agent_names
from recordings_service.training.clips import MEDIA, ClipOutdated, load_clip, redactions_changed
from recordings_service.training.eligibility import Exclusion, NotForTraining, exclusions_of
from recordings_service.training_rules import TrainingRules
from recordings_service.transcript_text import twin_of
from recordings_service.word_spans import words_as_written

MAX_PAGE = 200
# The tag of the clip library's cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "training_clips"


class ClipStatus(StrEnum):
    AVAILABLE = "available"
    OUTDATED = "outdated"  # the call's redactions changed since the cut: cut it again
    WITHDRAWN = "withdrawn"  # the call may no longer be used for training (reason: the exclusion)
    REMOVED = "removed"  # the call was deleted (reason: retention, erasure, ...)


@dataclass(frozen=True)
class ClipView:
    clip: TrainingClip
    status: ClipStatus
    reason: str | None
    agent: str | None  # as trainers are shown agents; None once removed
    by: str | None  # the username of the trainer who cut it
    transcript: list[dict[str, Any]]  # the redacted twin over the clip, times from the clip's start
    # Its call is hidden from the viewer (restricted, kept by an erasure), who did not cut it: what its author wrote
    # about the call is not shown (see `describe_clips`).
    withheld: bool = False

    @property
    def duration_s(self) -> float:
        return round(self.clip.end_s - self.clip.start_s, 3)

    @property
    def title(self) -> str:
        return "" if self.withheld else self.clip.title

    @property
    def tags(self) -> list[str]:
        return [] if self.withheld else list(self.clip.tags)

    @property
    def notes(self) -> str:
        return "" if self.withheld else self.clip.notes


@dataclass(frozen=True)
class ClipAudio:
    """A clip's stored audio in one codec, for ranged playback or an export."""

    recording_id: str
    wrapped_key: bytes
    key: str
    size: int
    media_type: str


def describe_clips(
    session: Session,
    envelope: Envelope,
    *,
    actor: Actor,
    clips: Sequence[TrainingClip],
    rules: TrainingRules,
    transcripts: bool = True,
) -> list[ClipView]:
    """Each clip's view, in the given order (a few queries for all of them). A clip of a call hidden from `actor`
    (restricted, kept by an erasure: for compliance only) is withdrawn, and its title, tags and notes are withheld
    unless `actor` cut it: a shared set kept showing other trainers what was written about such a call, whose clip
    itself they are refused."""
    recording_ids = {clip.recording_id for clip in clips}
    recordings = {
        recording.id: recording
        for recording in session.scalars(select(Recording).where(Recording.id.in_(recording_ids), visible_to(actor)))
    }
    twins: dict[str, list[dict[str, Any]]] = {}
    for transcript in session.scalars(
        select(Transcript).where(Transcript.recording_id.in_(recording_ids), Transcript.has_redacted_twin)
    ):
        twins[transcript.recording_id] = twin_of(session, transcript) or []
    exclusions = exclusions_of(session, recordings, rules=rules)
    creators = dict(
        session.execute(  # type: ignore[arg-type]
            select(User.id, User.username).where(User.id.in_({clip.created_by for clip in clips if clip.created_by}))
        ).all()
    )
    names = agent_names(session, envelope, show_agents=rules.show_agents)
    views = []
    for clip in clips:
        recording = recordings.get(clip.recording_id)
        status, reason = _state(clip, recording, exclusions.get(clip.recording_id), twins.get(clip.recording_id))
        shown = status in (ClipStatus.AVAILABLE, ClipStatus.OUTDATED)
        twin = twins.get(clip.recording_id) if shown and transcripts else None
        views.append(
            ClipView(
                clip=clip,
                status=status,
                reason=reason,
                agent=names(recording.agent_ref) if recording is not None and shown else None,
                by=creators.get(clip.created_by or ""),
                transcript=clip_transcript(twin, start_s=clip.start_s, end_s=clip.end_s) if twin else [],
                withheld=recording is None and clip.created_by != actor.id,
            )
        )
    return views


def view_clip(session: Session, envelope: Envelope, *, actor: Actor, clip_id: str, rules: TrainingRules) -> ClipView:
    """One clip with its transcript; audited as `training.clip_viewed`."""
    clip = load_clip(session, actor=actor, clip_id=clip_id)
    view = describe_clips(session, envelope, actor=actor, clips=[clip], rules=rules)[0]
    record_event(
        session,
        actor=actor,
        action="training.clip_viewed",
        object_type="recording",
        object_id=clip.recording_id,
        details={"clip_id": clip.id, "status": view.status.value},
    )
    return view


def list_clips(
    session: Session,
    *,
    actor: Actor,
    recording_id: str | None = None,
    mine: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> list[TrainingClip]:
    """The library's clips of calls `actor` may see, newest first, removed ones left out; `limit + 1` rows tell
    a caller more follow. A `recording_id` naming a call that is not there or hidden from `actor` is not found, as
    for the nominations (it was an empty list, as if the call had no clips). With `mine`, one's own clips of calls
    hidden since (restricted, kept by an erasure) are listed too, withdrawn, for their author to delete: the API
    could, but no page listed them."""
    if not 1 <= limit <= MAX_PAGE + 1:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    if recording_id is not None:
        get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    seen = or_(visible_to(actor), TrainingClip.created_by == actor.id) if mine else visible_to(actor)
    query = (
        select(TrainingClip)
        .join(Recording, Recording.id == TrainingClip.recording_id)
        .where(seen, TrainingClip.removed_at.is_(None), Recording.status != RecordingStatus.DELETED)
    )
    if recording_id is not None:
        query = query.where(TrainingClip.recording_id == recording_id)
    if mine:
        query = query.where(TrainingClip.created_by == actor.id)
    if cursor:
        query = query.where(TrainingClip.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query.order_by(TrainingClip.id.desc()).limit(limit)))


def clip_audio(
    session: Session, envelope: Envelope, *, actor: Actor, clip_id: str, codec: str, rules: TrainingRules
) -> ClipAudio:
    """A clip's audio if it is available; what an answer carries of it is audited by `record_clip_served`."""
    if codec not in MEDIA:
        raise Invalid("format", "a clip is played as opus or mp3")
    clip = load_clip(session, actor=actor, clip_id=clip_id)
    view = describe_clips(session, envelope, actor=actor, clips=[clip], rules=rules, transcripts=False)[0]
    require_playable(view, actor=actor)
    return stored_audio(clip, session.get_one(Recording, clip.recording_id), codec)


def record_clip_served(
    session: Session, *, actor: Actor, audio: ClipAudio, clip_id: str, codec: str, start: int, stop: int
) -> None:
    """Audit bytes `start` to `stop` (exclusive) of a clip's audio leaving for `actor` as `training.clip_played`,
    in its call's trail, as a recording's plays are (`playback.record_served`, per clip and format): counting only
    answers that start at the first byte let `Range: bytes=1-` carry the clip away unaudited."""
    record_served(
        session,
        actor=actor,
        recording_id=audio.recording_id,
        action="training.clip_played",
        start=start,
        stop=stop,
        size=audio.size,
        extra={"clip_id": clip_id, "format": codec},
    )


def require_playable(view: ClipView, *, actor: Actor) -> None:
    """Refuse a clip that is not available, audited in its call's trail as `recording.access_denied` (its clip and
    why), as a refused play of the call itself is: before, a refused clip play left no trace."""
    if view.status is ClipStatus.AVAILABLE:
        return
    clip = view.clip
    reason = view.reason or "unavailable"
    details = {
        ClipStatus.REMOVED: {"reason": "clip_removed", "removed": reason},
        ClipStatus.WITHDRAWN: {"reason": "not_for_training", "exclusion": reason},
        ClipStatus.OUTDATED: {"reason": "clip_outdated"},
    }[view.status]
    refusal = Refusal(actor, "recording.access_denied", "recording", clip.recording_id, {**details, "clip_id": clip.id})
    if view.status is ClipStatus.REMOVED:
        raise NotFound(f"clip {clip.id} was removed ({reason})", why="clip_removed", refusal=refusal)
    if view.status is ClipStatus.WITHDRAWN:
        raise NotForTraining(clip.recording_id, reason, refusal=refusal)
    raise ClipOutdated(
        f"the redactions of clip {clip.id}'s call changed since it was cut: cut it again", refusal=refusal
    )


def stored_audio(clip: TrainingClip, recording: Recording, codec: str) -> ClipAudio:
    key, size = (clip.opus_key, clip.opus_size) if codec == "opus" else (clip.mp3_key, clip.mp3_size)
    return ClipAudio(
        recording_id=recording.id,
        wrapped_key=recording.wrapped_data_key,
        key=key,
        size=size,
        media_type=MEDIA[codec][1],
    )


def open_clip(store: ObjectStore, envelope: Envelope, audio: ClipAudio) -> PlaintextReader:
    """The clip's plaintext as a stream, authenticated while it is read."""
    return envelope.decrypting_stream(
        store.get(audio.key), wrapped=audio.wrapped_key, object_id=audio.recording_id, derived_id=audio.key
    )


def clip_bytes(store: ObjectStore, envelope: Envelope, audio: ClipAudio, *, start: int, stop: int) -> Iterator[bytes]:
    with open_clip(store, envelope, audio) as plaintext:
        yield from plaintext_range(plaintext, start=start, stop=stop)


def clip_transcript(segments: Sequence[dict[str, Any]], *, start_s: float, end_s: float) -> list[dict[str, Any]]:
    """The redacted segments said during the clip, with times from its start; with word timings, only the words
    said inside it (a segment none of whose words is said inside it is left out)."""
    lines = []
    for segment in segments:
        seg_start, seg_end = float(segment.get("start") or 0.0), float(segment.get("end") or 0.0)
        if seg_end <= start_s or seg_start >= end_s:
            continue
        timed = segment.get("words") or []
        inside = [
            index
            for index, word in enumerate(timed)
            if start_s <= (float(word.get("start", 0.0)) + float(word.get("end", 0.0))) / 2 < end_s
        ]
        if timed and not inside:
            continue
        text = _words_said(segment, inside[0], inside[-1]) if timed else str(segment.get("text") or "")
        lines.append(
            {
                "speaker": segment.get("speaker"),
                "start": round(max(seg_start, start_s) - start_s, 3),
                "end": round(min(seg_end, end_s) - start_s, 3),
                "text": text.strip(),
            }
        )
    return lines


def _words_said(segment: dict[str, Any], first: int, last: int) -> str:
    """Words `first` to `last` of the segment as its text writes them."""
    said = [str(word.get("text") or "") for word in segment.get("words") or []]
    return words_as_written(str(segment.get("text") or ""), said, first, last)


def _state(
    clip: TrainingClip, recording: Recording | None, exclusion: Exclusion | None, twin: list[dict[str, Any]] | None
) -> tuple[ClipStatus, str | None]:
    if clip.removed_at is not None or (recording is not None and recording.status == RecordingStatus.DELETED):
        return ClipStatus.REMOVED, clip.removed_reason or "deleted"
    if recording is None or recording.status == RecordingStatus.MISSING_OBJECT:
        return ClipStatus.WITHDRAWN, "unavailable"
    if exclusion is not None:
        return ClipStatus.WITHDRAWN, exclusion.value
    if twin is None:
        return ClipStatus.WITHDRAWN, "not_transcribed"
    if redactions_changed(clip, twin):
        return ClipStatus.OUTDATED, "redactions_changed"
    return ClipStatus.AVAILABLE, None
