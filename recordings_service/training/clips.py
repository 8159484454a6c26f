"""Cutting clips: a span of a call's redacted audio encoded as Ogg/Opus (and MP3 for exports), encrypted under
the call's own data key and stored under `derived/<recording>/clips/<clip>`, so deleting the call (retention
sweep, erasure) removes and crypto-shreds its clips with everything else it left.

The objects are written before the row that names them (`calls.ingest` does the same); a row that never
commits leaves objects under the call's own prefix, which go when the call does.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audio import edit
from recordings_service.audio.formats import format_of
from recordings_service.audit import Actor, record_event
from recordings_service.db import new_id, utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.models import Recording, TrainingClip, TrainingSet, TrainingSetItem, Transcript
from recordings_service.models.recording import RecordingStatus
from recordings_service.recordings import get_live_recording, get_playable_recording, still_live
from recordings_service.redaction.audio import ensure_redacted, open_redacted, spans_to_mute
from recordings_service.resubmission import Made
from recordings_service.storage.derived import delete_derived, put_derived
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import scratch_dir
from recordings_service.training.clip_tags import checked_tags
from recordings_service.training.eligibility import require_for_training
from recordings_service.training.redacted_text import Redactor, call_text_redactor
from recordings_service.training.resent import recent_clip
from recordings_service.training.written_text import checked_text, checked_title
from recordings_service.training_rules import TrainingRules
from recordings_service.transcript_text import twin_of

Codec = Literal["opus", "mp3"]
CODECS: tuple[Codec, ...] = ("opus", "mp3")
# Codec -> file extension and media type of the stored clip.
MEDIA: dict[str, tuple[str, str]] = {"opus": ("ogg", "audio/ogg"), "mp3": ("mp3", "audio/mpeg")}
MAX_CLIP_S = 600.0
# A clip is for a person to listen to: under a second is a word at most, too short to hear how it was said, and a
# span that short is a slip of the form (1 to 1.0001 s made a clip with nothing to play).
MIN_CLIP_S = 1.0
MAX_TITLE = 200
MAX_NOTES = 2000
# Probed durations can be a few samples short of where a player ends.
DURATION_SLACK_S = 0.5
# The reason other trainers' sets show for a clip its author deleted.
DELETED_BY_OWNER = "deleted_by_owner"
# A clip joining a set holds its row (key share, after the set's row) and its deletion locks it for update first:
# the deletion looked for other trainers' sets, found none while one was adding the clip, and deleted the row
# under the new item (a foreign-key violation, a 500, on PostgreSQL). Now the second waits: an add then finds the
# clip gone or removed, a deletion finds the set. Edits of a clip's text are not held up by adds.
ClipLock = Literal["add", "delete"]
CLIP_LOCKS: dict[ClipLock, dict[str, bool]] = {"add": {"read": True, "key_share": True}, "delete": {"read": False}}


@dataclass(frozen=True)
class ClipText:
    """What a trainer writes about a clip, for other trainers and exports: kept with its personal data redacted."""

    title: str
    tags: tuple[str, ...] = ()
    notes: str = ""

    def checked(self, redacted: Redactor, *, kept: ClipText | None = None) -> ClipText:
        """The text with its personal data redacted by `redacted` (`call_text_redactor` of the clip's call); each
        field that is what the clip says as stored (`kept`) is taken as it is (`written_text`, `clip_tags`)."""
        title, tags, notes = (kept.title, kept.tags, kept.notes) if kept else (None, (), None)
        return ClipText(
            title=checked_title(self.title, kept=title, limit=MAX_TITLE, what="the clip", redact=redacted),
            tags=checked_tags(self.tags, kept=tags, redact=redacted),
            notes=checked_text(
                "notes", self.notes, kept=notes, limit=MAX_NOTES, what="a clip's notes", redact=redacted
            ),
        )


class ClipOutdated(Conflict):
    """The call's redactions changed since the clip was cut: it is not served until it is cut again."""

    code = "clip_outdated"


def clip_key(recording_id: str, clip_id: str, codec: str) -> str:
    return f"derived/{recording_id}/clips/{clip_id}.{MEDIA[codec][0]}"


def cut_clip(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    recording_id: str,
    start_s: float,
    end_s: float,
    text: ClipText,
    rules: TrainingRules,
    ffmpeg: str,
    tone: bool,
    customer_number_pattern: str | None = None,
    reuse_recent: bool = False,
) -> Made[TrainingClip]:
    """Cut `start_s`..`end_s` of a call trainers may use from its redacted audio; audited as `training.clip_cut`.
    A call whose audio is missing from storage is not found, saying so (`audio_missing`). With `reuse_recent` (the
    form, the API), the same trainer's clip of this span and text cut moments ago answers (`resent.recent_clip`)."""
    recording = get_live_recording(session, actor=actor, recording_id=recording_id)
    if recording.status == RecordingStatus.MISSING_OBJECT:
        raise NotFound(
            f"the audio of recording {recording_id} is missing from storage: no clip can be cut from it",
            why="audio_missing",
        )
    require_for_training(session, recording, rules=rules)
    check_window(recording, start_s=start_s, end_s=end_s)
    text = text.checked(call_text_redactor(session, recording, customer_number_pattern=customer_number_pattern))
    if reuse_recent and (
        twin := recent_clip(session, actor=actor, recording=recording, span=(start_s, end_s), text=text)
    ):
        return Made(twin, new=False)
    clip = TrainingClip(
        id=new_id(),
        recording_id=recording.id,
        start_s=start_s,
        end_s=end_s,
        title=text.title,
        tags=list(text.tags),
        notes=text.notes,
        created_by=actor.id,
    )
    _encode(session, store, envelope, recording=recording, clip=clip, ffmpeg=ffmpeg, tone=tone, replace=False)
    session.add(clip)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.clip_cut",
        object_type="recording",
        object_id=recording.id,
        details={"clip_id": clip.id, "start_s": start_s, "end_s": end_s, "muted_spans": len(clip.muted_spans)},
    )
    return Made(clip, new=True)


def recut_clip(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    clip_id: str,
    rules: TrainingRules,
    ffmpeg: str,
    tone: bool,
) -> TrainingClip:
    """Cut a clip again from the current redacted audio, once its call's redactions changed; any trainer may, as an
    outdated clip cannot be played in anyone's sets. A clip that is current is left as it is (409)."""
    clip = load_clip(session, actor=actor, clip_id=clip_id)
    if clip.removed_at is not None:  # its author deleted it: its audio went, and must not come back
        raise NotFound(f"clip {clip_id} was removed ({clip.removed_reason})", why="clip_removed")
    recording = get_live_recording(session, actor=actor, recording_id=clip.recording_id, audio=True)
    require_for_training(session, recording, rules=rules)
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
    twin = twin_of(session, transcript) if transcript is not None else None
    if twin is not None and not redactions_changed(clip, twin):
        raise Conflict(
            "the clip already follows its call's current redactions: there is nothing to cut again", why="clip_current"
        )
    _encode(session, store, envelope, recording=recording, clip=clip, ffmpeg=ffmpeg, tone=tone, replace=True)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.clip_recut",
        object_type="recording",
        object_id=recording.id,
        details={"clip_id": clip.id, "muted_spans": len(clip.muted_spans)},
    )
    return clip


def shorter_than_a_clip(start_s: float, end_s: float) -> bool:
    """Whether a span is too short to cut as a clip, to the microsecond (3.3 - 2.3 is 0.9999999999999996)."""
    return round(end_s - start_s, 6) < MIN_CLIP_S


def check_window(recording: Recording, *, start_s: float, end_s: float) -> None:
    if not math.isfinite(start_s) or start_s < 0:
        raise Invalid("start_s", "the clip must start at or after 0 s", why="clip_before_start")
    if not math.isfinite(end_s) or end_s <= start_s:
        raise Invalid("end_s", "the clip must end after it starts", why="clip_ends_first")
    if shorter_than_a_clip(start_s, end_s):
        raise Invalid("end_s", f"a clip is at least {MIN_CLIP_S:.0f} s long", code="too_short", why="clip_too_short")
    # Past the call's end first: the longest clip is no help to one longer than its call.
    if end_s > recording.duration_s + DURATION_SLACK_S:
        raise Invalid(
            "end_s",
            f"the clip must end within the call ({recording.duration_s:.1f} s)",
            why="clip_past_call",
            values={"duration_s": recording.duration_s},
        )
    if end_s - start_s > MAX_CLIP_S:
        raise Invalid("end_s", f"a clip is at most {MAX_CLIP_S:.0f} s long", code="too_long")


def selection_window(
    session: Session, *, actor: Actor, recording_id: str, first: int, last: int
) -> tuple[float, float]:
    """The span of a selection in the call's redacted transcript: segment `first` to `last` (from 0), inclusive."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
    segments = twin_of(session, transcript) if transcript is not None else None
    if not segments:
        raise Invalid(
            "first_segment", "the call has no redacted transcript to select from", why="no_redacted_transcript"
        )
    if not first <= last < len(segments):
        raise Invalid(
            "last_segment",
            f"segments are numbered 0 to {len(segments) - 1}, the first before the last",
            why="selection_order",
            values={"last": len(segments) - 1},
        )
    return float(segments[first]["start"]), float(segments[last]["end"])


def load_clip(
    session: Session, *, actor: Actor, clip_id: str, lock: ClipLock | None = None, authors_hidden: bool = False
) -> TrainingClip:
    """A clip of a call `actor` may see; one of a call hidden from them is not found (and the refusal audited),
    unless `authors_hidden` and `actor` cut it. With `lock`, its row is read as committed now and held to the end of
    the transaction (see `CLIP_LOCKS`)."""
    clip = session.get(
        TrainingClip, clip_id, with_for_update=CLIP_LOCKS[lock] if lock else None, populate_existing=bool(lock)
    )
    if clip is None:
        raise NotFound(f"clip {clip_id} not found", why="clip_not_found")
    if not (authors_hidden and clip.created_by == actor.id):
        get_playable_recording(session, actor=actor, recording_id=clip.recording_id, audio=False)
    return clip


def update_clip(
    session: Session,
    *,
    actor: Actor,
    clip_id: str,
    title: str | None = None,
    tags: Sequence[str] | None = None,
    notes: str | None = None,
    customer_number_pattern: str | None = None,
) -> TrainingClip:
    """Change what the clip's author wrote about it; a field that is what it already says (not given, or as stored)
    is taken as stored, not checked or redacted again, and is not audited as a change."""
    clip = own_clip(session, actor=actor, clip_id=clip_id)
    if clip.removed_at is not None:
        raise NotFound(f"clip {clip_id} was removed ({clip.removed_reason})", why="clip_removed")
    recording = session.get_one(Recording, clip.recording_id)
    # Under the call's share lock, as every write about a call: an edit meeting its deletion waits, then is refused.
    if not still_live(session, recording):
        raise NotFound(f"clip {clip_id} was removed (its call was deleted)", why="clip_removed")
    stored = ClipText(title=clip.title, tags=tuple(clip.tags), notes=clip.notes)
    text = ClipText(
        title=stored.title if title is None else title,
        tags=stored.tags if tags is None else tuple(tags),
        notes=stored.notes if notes is None else notes,
    ).checked(call_text_redactor(session, recording, customer_number_pattern=customer_number_pattern), kept=stored)
    was: dict[str, object] = {"title": clip.title, "tags": list(clip.tags), "notes": clip.notes}
    now: dict[str, object] = {"title": text.title, "tags": list(text.tags), "notes": text.notes}
    changed = [name for name in now if now[name] != was[name]]
    if not changed:
        return clip
    clip.title, clip.tags, clip.notes = text.title, list(text.tags), text.notes
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.clip_updated",
        object_type="training_clip",
        object_id=clip.id,
        details={"changed": changed},
    )
    return clip


def delete_clip(session: Session, *, actor: Actor, clip_id: str) -> list[str]:
    """Delete a clip; returns the object keys to delete once this commits. It leaves its author's sets; other
    trainers' sets keep its place, shown as removed (`deleted_by_owner`) as when its call is deleted.

    Its author deletes it even when its call is hidden from them now (restricted, or kept by an erasure for a legal
    duty): deleting shows nothing of the call, and before, such a clip's title, notes and audio stayed stored until
    the call's retention ended, with no one able to remove them."""
    clip = own_clip(session, actor=actor, clip_id=clip_id, lock="delete", authors_hidden=True)
    keys = [clip.opus_key, clip.mp3_key]
    now = utcnow()
    other_sets = 0
    for training_set in session.scalars(
        select(TrainingSet).join(TrainingSetItem).where(TrainingSetItem.clip_id == clip.id)
    ):
        training_set.updated_at = now
        if training_set.owner_id == actor.id:
            training_set.items = [item for item in training_set.items if item.clip_id != clip.id]
        else:
            other_sets += 1
    if not other_sets:
        session.delete(clip)
    elif clip.removed_at is None:
        for name, value in TrainingClip.removal(DELETED_BY_OWNER, now).items():
            setattr(clip, name, value)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.clip_deleted",
        object_type="recording",
        object_id=clip.recording_id,
        details={"clip_id": clip_id, "other_sets": other_sets},
    )
    return keys


def purge_clip_objects(store: ObjectStore, keys: Sequence[str]) -> int:
    """Every version of a deleted clip's objects, after the deletion committed."""
    return sum(store.delete(key) for key in keys)


def redactions_changed(clip: TrainingClip, twin: list[dict[str, Any]]) -> bool:
    """Whether the call's redacted transcript (`twin`) mutes other spans in the clip's window than the clip has."""
    current = window_spans(spans_to_mute(twin), start_s=clip.start_s, end_s=clip.end_s)
    return current != [[float(start), float(end)] for start, end in clip.muted_spans]


def window_spans(spans: Sequence[Sequence[float]], *, start_s: float, end_s: float) -> list[list[float]]:
    """The muted spans that fall inside a clip's window, clamped to it (seconds from the call's start)."""
    return [
        [round(max(float(start), start_s), 3), round(min(float(end), end_s), 3)]
        for start, end in spans
        if float(end) > start_s and float(start) < end_s
    ]


def own_clip(
    session: Session, *, actor: Actor, clip_id: str, lock: ClipLock | None = None, authors_hidden: bool = False
) -> TrainingClip:
    clip = load_clip(session, actor=actor, clip_id=clip_id, lock=lock, authors_hidden=authors_hidden)
    if clip.created_by != actor.id:
        refusal = Refusal(actor, "training.edit_denied", "training_clip", clip_id, {})
        raise Forbidden(
            "only the trainer who cut a clip may change or delete it", why="not_clip_author", refusal=refusal
        )
    return clip


def _encode(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    recording: Recording,
    clip: TrainingClip,
    ffmpeg: str,
    tone: bool,
    replace: bool,
) -> None:
    """Cut the clip from the (cached) redacted audio in both codecs, encrypt and store them, fill in the row."""
    if recording.status == RecordingStatus.DELETED:
        raise NotFound(
            f"the audio of recording {recording.id} is not available ({recording.status})", why="recording_deleted"
        )
    audio = ensure_redacted(session, store, envelope, recording=recording, ffmpeg=ffmpeg, tone=tone)
    extension = format_of(recording.container).extension
    with scratch_dir("clip") as scratch:
        source = scratch / f"redacted.{extension}"
        with open_redacted(store, envelope, audio) as plaintext, source.open("wb") as out:
            shutil.copyfileobj(plaintext, out)  # type: ignore[misc]
        sizes: dict[str, int] = {}
        for codec in CODECS:
            cut, sealed = scratch / f"clip.{MEDIA[codec][0]}", scratch / f"sealed.{codec}"
            edit.cut_clip(source, cut, start_s=clip.start_s, end_s=clip.end_s, ffmpeg=ffmpeg, codec=codec)
            key = clip_key(recording.id, clip.id, codec)
            with cut.open("rb") as plain, sealed.open("wb") as out:
                envelope.encrypt_derived(
                    plain, out, wrapped=recording.wrapped_data_key, object_id=recording.id, derived_id=key
                )
            if replace:
                # The old versions (cut along stale redactions) go before the new one is written.
                delete_derived(session, store, recording_id=recording.id, keys=[key])
            with sealed.open("rb") as body:
                put_derived(session, store, recording=recording, key=key, body=body)
            sizes[codec] = cut.stat().st_size
    clip.opus_key, clip.opus_size = clip_key(recording.id, clip.id, "opus"), sizes["opus"]
    clip.mp3_key, clip.mp3_size = clip_key(recording.id, clip.id, "mp3"), sizes["mp3"]
    clip.muted_spans = window_spans(audio.spans, start_s=clip.start_s, end_s=clip.end_s)
