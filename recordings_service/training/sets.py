"""Training sets: clips in order with a title and description, private to the trainer who made them unless
shared with the other trainers. A set keeps its places for clips whose call was deleted since, or that their
owner deleted, shown as removed (with the reason: retention, erasure, deleted_by_owner), so a trainer sees the
gap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event, record_events
from recordings_service.db import id_cursor, utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.models import TrainingExport, TrainingSet, TrainingSetItem, User
from recordings_service.resubmission import Made
from recordings_service.storage.encryption import Envelope
from recordings_service.training.clip_views import ClipStatus, ClipView, describe_clips
from recordings_service.training.clips import MAX_TITLE, load_clip
from recordings_service.training.redacted_text import free_text_redactor
from recordings_service.training.resent import recent_set
from recordings_service.training.written_text import checked_text, checked_title
from recordings_service.training_rules import TrainingRules

MAX_CLIPS = 200
MAX_DESCRIPTION = 5000
MAX_PAGE = 200
# The tag of the training sets' cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "training_sets"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ClipUnavailable(Conflict):
    """A clip that cannot join a set now: its `status` (outdated, withdrawn, removed) and that status's `reason`."""

    def __init__(self, view: ClipView) -> None:
        super().__init__(
            f"clip {view.clip.id} cannot be added: it is {view.status.value} ({view.reason})", why="clip_unavailable"
        )
        self.status = view.status.value
        self.reason = view.reason


class SetChanged(Conflict):
    """The set changed since the `version` a change was made from (another tab or script saved first): the change
    is refused rather than silently replacing that one; `version` is the set's version now."""

    code = "set_changed"

    def __init__(self, training_set: TrainingSet, *, given: int) -> None:
        self.version = set_version(training_set)
        super().__init__(
            f"training set {training_set.id} changed since version {given} (it is at version {self.version} now): "
            "read it again and make the change to it as it is",
            why="set_changed",
            field="version",
            values={"version": self.version},
        )


@dataclass(frozen=True)
class SetView:
    training_set: TrainingSet
    owner: str | None  # username
    items: list[ClipView]  # in the set's order


def create_set(
    session: Session,
    envelope: Envelope,
    *,
    actor: Actor,
    title: str,
    description: str = "",
    shared: bool = False,
    clip_ids: Sequence[str] = (),
    rules: TrainingRules,
    customer_number_pattern: str | None = None,
    reuse_recent: bool = False,
) -> Made[TrainingSet]:
    """A new set of `actor`'s, with these clips in this order (each available now); its title and description
    are kept with their personal data redacted, as a clip's text is. With `reuse_recent` (the form, the API), the
    same trainer's set of these made moments ago answers (`resent.recent_set`)."""
    title, description = _title(title, customer_number_pattern), _description(description, customer_number_pattern)
    if reuse_recent and (
        twin := recent_set(session, actor=actor, title=title, description=description, shared=shared, clip_ids=clip_ids)
    ):
        return Made(twin, new=False)
    training_set = TrainingSet(title=title, description=description, shared=shared, owner_id=actor.id)
    session.add(training_set)
    session.flush()
    _place(session, envelope, actor=actor, training_set=training_set, clip_ids=clip_ids, rules=rules)
    record_event(
        session,
        actor=actor,
        action="training.set_created",
        object_type="training_set",
        object_id=training_set.id,
        details={"clips": len(clip_ids), "shared": shared},
    )
    return Made(training_set, new=True)


def load_set(session: Session, *, actor: Actor, set_id: str, lock: bool = False) -> TrainingSet:
    """A set `actor` owns, or one shared with trainers; another's private set is not found (refusal audited). With
    `lock`, its row is held to the end of the transaction and read as committed now: a change to the set made from
    its order (its clips) waits for another one, then starts from the order that one left."""
    training_set = session.get(TrainingSet, set_id, with_for_update=lock or None, populate_existing=lock)
    if training_set is None:
        raise NotFound(f"training set {set_id} not found", why="set_not_found")
    if training_set.owner_id != actor.id and not training_set.shared:
        refusal = Refusal(actor, "training.set_access_denied", "training_set", set_id, {"reason": "not_shared"})
        raise NotFound(f"training set {set_id} not found", why="set_not_found", refusal=refusal)
    return training_set


def view_set(session: Session, envelope: Envelope, *, actor: Actor, set_id: str, rules: TrainingRules) -> SetView:
    """The set with each clip's state and transcript, for the player; audited as `training.set_viewed`, and each
    clip it shows as `training.clip_viewed` against its call."""
    training_set = load_set(session, actor=actor, set_id=set_id)
    items = describe_clips(
        session, envelope, actor=actor, clips=[item.clip for item in training_set.items], rules=rules
    )
    owner = session.get(User, training_set.owner_id) if training_set.owner_id else None
    view = SetView(training_set=training_set, owner=owner.username if owner else None, items=items)
    record_event(
        session,
        actor=actor,
        action="training.set_viewed",
        object_type="training_set",
        object_id=training_set.id,
        details={
            "clips": len(items),
            "available": sum(item.status is ClipStatus.AVAILABLE for item in items),
        },
    )
    # Each clip shown (its redacted transcript and audio link) is read as opening it reads it: in its call's trail.
    record_events(
        session,
        actor=actor,
        action="training.clip_viewed",
        object_type="recording",
        items=[
            (item.clip.recording_id, {"clip_id": item.clip.id, "status": item.status.value, "set_id": set_id})
            for item in items
            if item.status in (ClipStatus.AVAILABLE, ClipStatus.OUTDATED)
        ],
    )
    return view


def list_sets(
    session: Session, *, actor: Actor, mine: bool = False, cursor: str | None = None, limit: int = 50
) -> list[TrainingSet]:
    """`actor`'s sets and those shared with trainers (only their own with `mine`), newest first; `limit + 1`
    rows tell a caller more follow."""
    if not 1 <= limit <= MAX_PAGE + 1:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    query = select(TrainingSet).where(
        TrainingSet.owner_id == actor.id if mine else or_(TrainingSet.owner_id == actor.id, TrainingSet.shared)
    )
    if cursor:
        query = query.where(TrainingSet.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query.order_by(TrainingSet.id.desc()).limit(limit)))


def update_set(
    session: Session,
    envelope: Envelope,
    *,
    actor: Actor,
    set_id: str,
    title: str | None = None,
    description: str | None = None,
    shared: bool | None = None,
    clip_ids: Sequence[str] | None = None,
    version: int | None = None,
    rules: TrainingRules,
    customer_number_pattern: str | None = None,
) -> TrainingSet:
    """Change the owner's set; `clip_ids` is the whole new order (clips already in it may stay whatever their
    state: a withdrawn or removed clip keeps its place, shown as such). What is given is checked as ever; a change
    to what the set already is (nothing given, or its own values) changes nothing and is not audited as one. With
    `version` (the `set_version` the change was made from), a set changed since is refused (`SetChanged`)."""
    training_set = _own_set(session, actor=actor, set_id=set_id)
    require_version(training_set, version)
    changed: list[str] = []
    kept_title, kept_description = training_set.title, training_set.description
    if title is not None and (new_title := _title(title, customer_number_pattern, kept=kept_title)) != kept_title:
        training_set.title = new_title
        changed.append("title")
    new_description = (
        None if description is None else _description(description, customer_number_pattern, kept=kept_description)
    )
    if new_description is not None and new_description != training_set.description:
        training_set.description = new_description
        changed.append("description")
    if shared is not None and shared != training_set.shared:
        training_set.shared = shared
        changed.append("shared")
    if clip_ids is not None and list(clip_ids) != [item.clip_id for item in training_set.items]:
        _place(session, envelope, actor=actor, training_set=training_set, clip_ids=clip_ids, rules=rules)
        changed.append("clip_ids")
    if not changed:
        return training_set
    # Set whatever changed (the items' rows only, too): its version moves on, and never back to one already given.
    training_set.updated_at = max(utcnow(), training_set.updated_at + timedelta(microseconds=1))
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.set_updated",
        object_type="training_set",
        object_id=training_set.id,
        details={"changed": changed, "clips": len(training_set.items), "shared": training_set.shared},
    )
    return training_set


def set_version(training_set: TrainingSet) -> int:
    """The set's version: a number that changes with each change to it (its last change's time in microseconds),
    for a change to say what it was made from."""
    return (training_set.updated_at - _EPOCH) // timedelta(microseconds=1)


def require_version(training_set: TrainingSet, version: int | None) -> None:
    """Refuse a change made from another version of the set than it has now (none given: any version)."""
    if version is not None and version != set_version(training_set):
        raise SetChanged(training_set, given=version)


def delete_set(session: Session, *, actor: Actor, set_id: str) -> None:
    """Delete the owner's set and its exports (the clips stay in the library)."""
    training_set = _own_set(session, actor=actor, set_id=set_id)
    session.execute(delete(TrainingExport).where(TrainingExport.set_id == training_set.id))
    session.delete(training_set)
    session.flush()
    record_event(session, actor=actor, action="training.set_deleted", object_type="training_set", object_id=set_id)


def _own_set(session: Session, *, actor: Actor, set_id: str) -> TrainingSet:
    training_set = load_set(session, actor=actor, set_id=set_id, lock=True)
    if training_set.owner_id != actor.id:
        refusal = Refusal(actor, "training.edit_denied", "training_set", set_id, {})
        raise Forbidden("only the trainer who made a set may change it", why="not_set_owner", refusal=refusal)
    return training_set


def _place(
    session: Session,
    envelope: Envelope,
    *,
    actor: Actor,
    training_set: TrainingSet,
    clip_ids: Sequence[str],
    rules: TrainingRules,
) -> None:
    """Put the set's items in the order of `clip_ids`; a clip new to the set must be available now."""
    if len(clip_ids) > MAX_CLIPS:
        raise Invalid("clip_ids", f"a set holds at most {MAX_CLIPS} clips", code="too_long")
    if len(set(clip_ids)) != len(clip_ids):
        raise Invalid("clip_ids", "a clip appears in a set once", code="duplicate")
    # A clip already in the set keeps its place whatever became of its call (restricted ones are hidden from
    # trainers): only a clip new to the set is looked up as one the trainer may see, and held (after the set's
    # row) so that its author's deletion cannot meet the new item half way (`clips.CLIP_LOCKS`).
    present = {item.clip_id: item.clip for item in training_set.items}
    clips = [
        present.get(clip_id) or load_clip(session, actor=actor, clip_id=clip_id, lock="add") for clip_id in clip_ids
    ]
    added = [clip for clip in clips if clip.id not in present]
    for view in describe_clips(session, envelope, actor=actor, clips=added, rules=rules, transcripts=False):
        if view.status is not ClipStatus.AVAILABLE:
            raise ClipUnavailable(view)
    training_set.items.clear()
    session.flush()  # the old places go before the new ones take their positions
    training_set.items.extend(
        TrainingSetItem(clip_id=clip.id, position=position) for position, clip in enumerate(clips, start=1)
    )
    session.flush()


def _title(title: str, customer_number_pattern: str | None, *, kept: str | None = None) -> str:
    redact = free_text_redactor(customer_number_pattern=customer_number_pattern)
    return checked_title(title, kept=kept, limit=MAX_TITLE, what="the set", redact=redact)


def _description(description: str, customer_number_pattern: str | None, *, kept: str | None = None) -> str:
    redact = free_text_redactor(customer_number_pattern=customer_number_pattern)
    return checked_text(
        "description", description, kept=kept, limit=MAX_DESCRIPTION, what="a set's description", redact=redact
    )
