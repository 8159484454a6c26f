"""Nominations: a QA supervisor marks a call, or a span of it, as a good example or one needing improvement,
with a note for trainers; trainers list and filter them (and sample nominated calls only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import id_cursor, key_cursor
from recordings_service.errors import Forbidden, Invalid, NotFound, Refusal
from recordings_service.models import Nomination, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.models.training import NominationKind
from recordings_service.recordings import get_live_recording, get_playable_recording, visible_to
from recordings_service.training.clips import MIN_CLIP_S, shorter_than_a_clip
from recordings_service.training.eligibility import require_for_training
from recordings_service.training.redacted_text import call_text_redactor, redacted_within
from recordings_service.training_rules import TrainingRules, usable_for_training
from recordings_service.written_text import refuse_controls_in_text

MAX_NOTE = 2000
MAX_PAGE = 200
# The tag of the nominations' cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "nominations"
# Probed durations can be a few samples short of where a player ends.
DURATION_SLACK_S = 0.5


@dataclass(frozen=True)
class NominationRow:
    nomination: Nomination
    by: str | None  # the nominator's username


def nominate(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    kind: NominationKind,
    note: str = "",
    start_s: float | None = None,
    end_s: float | None = None,
    rules: TrainingRules,
    customer_number_pattern: str | None = None,
) -> Nomination:
    """Mark a call trainers may use (or a span of it); the note is kept with its personal data redacted."""
    recording = get_live_recording(session, actor=actor, recording_id=recording_id)
    check_span(recording, start_s=start_s, end_s=end_s)
    refuse_controls_in_text("note", note, what="a nomination's note")
    kept = redacted_within(
        "note",
        note,
        MAX_NOTE,
        f"at most {MAX_NOTE} characters",
        call_text_redactor(session, recording, customer_number_pattern=customer_number_pattern),
        why="nomination_note_too_long",
    )
    require_for_training(session, recording, rules=rules)
    nomination = Nomination(
        recording_id=recording.id, start_s=start_s, end_s=end_s, kind=kind.value, note=kept, created_by=actor.id
    )
    session.add(nomination)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.nominated",
        object_type="recording",
        object_id=recording.id,
        details={"nomination_id": nomination.id, "kind": kind.value, "span": start_s is not None},
    )
    return nomination


def check_span(recording: Recording, *, start_s: float | None, end_s: float | None) -> None:
    """A span is both ends or neither, inside the call, ending after it starts, and long enough to cut as a clip."""
    # Each refusal has its `why`, so the call page says it in its reader's language.
    if (start_s is None) != (end_s is None):
        field = "end_s" if end_s is None else "start_s"
        raise Invalid(field, "give both ends of the span, or neither", why="nomination_span_one_end")
    if start_s is None or end_s is None:
        return
    if not math.isfinite(start_s) or start_s < 0:
        raise Invalid("start_s", "must be at or after 0 s", why="nomination_span_before_start")
    if not math.isfinite(end_s) or end_s <= start_s:
        raise Invalid("end_s", "must be after the start", why="nomination_span_ends_first")
    if end_s > recording.duration_s + DURATION_SLACK_S:
        raise Invalid(
            "end_s",
            f"must be within the call ({recording.duration_s:.1f} s)",
            why="nomination_span_past_call",
            values={"duration_s": recording.duration_s},
        )
    # A span is what a trainer cuts a clip from: one shorter than the shortest clip could never be used.
    if shorter_than_a_clip(start_s, end_s):
        raise Invalid(
            "end_s", f"a span is at least {MIN_CLIP_S:.0f} s long", code="too_short", why="nomination_span_too_short"
        )


def list_nominations(
    session: Session,
    *,
    actor: Actor,
    recording_id: str | None = None,
    kind: NominationKind | None = None,
    cursor: str | None = None,
    limit: int = 50,
    training_rules: TrainingRules | None = None,
) -> list[NominationRow]:
    """Nominations of the calls `actor` may see, newest first; `limit + 1` rows tell a caller more follow.

    A trainer sees those of the calls trainers may use now (`training_rules`): a supervisor's note says what a call
    holds, and a call taken out of training (its customer objected to marketing, it lost the training purpose) was
    still listed to trainers with its notes."""
    if not 1 <= limit <= MAX_PAGE + 1:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    if recording_id is not None:
        get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    query = (
        select(Nomination, User.username)
        .join(Recording, Recording.id == Nomination.recording_id)
        .outerjoin(User, User.id == Nomination.created_by)
        .where(visible_to(actor), Recording.status != RecordingStatus.DELETED)
    )
    if actor.role == Role.TRAINER:
        query = query.where(usable_for_training(training_rules or TrainingRules()))
    if recording_id is not None:
        query = query.where(Nomination.recording_id == recording_id)
    if kind is not None:
        query = query.where(Nomination.kind == kind.value)
    if cursor:
        query = query.where(Nomination.id < id_cursor(cursor, CURSOR_TAG))
    rows = session.execute(query.order_by(Nomination.id.desc()).limit(limit))
    return [NominationRow(nomination, username) for nomination, username in rows]


def page_cursor(row: NominationRow) -> str:
    """The cursor after `row` in `list_nominations`."""
    return key_cursor(CURSOR_TAG, row.nomination.id)


def withdraw_nomination(session: Session, *, actor: Actor, nomination_id: str) -> None:
    """Delete a nomination; only the supervisor who made it may."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"nomination {nomination_id} not found", why="nomination_not_found")
    get_playable_recording(session, actor=actor, recording_id=nomination.recording_id, audio=False)
    if nomination.created_by != actor.id:
        refusal = Refusal(actor, "training.nomination_refused", "training_nomination", nomination_id, {})
        raise Forbidden(
            "only the supervisor who made a nomination may withdraw it", why="not_nomination_author", refusal=refusal
        )
    session.delete(nomination)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.nomination_withdrawn",
        object_type="recording",
        object_id=nomination.recording_id,
        details={"nomination_id": nomination_id},
    )
