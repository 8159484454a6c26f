"""Free-text tags on calls ("churn risk", "escalate"): added and removed in bulk from the call list, shown there and
filtered by.

A tag is kept as typed; `key` (inner spaces collapsed, Unicode's canonical caseless form) makes "Churn" and "churn "
one tag, and "äiti" typed with a + U+0308 (a Mac's or a PDF's decomposed letters) the tag "Äiti" typed composed.
Tagging writes one `recording.tagged` audit event per call, naming the tag row (not its words); removing one
`recording.untagged`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recordings_service.account_names import refuse_unseen
from recordings_service.audit import Actor, record_event
from recordings_service.caseless_keys import caseless_key
from recordings_service.db import new_id, upsert_insert
from recordings_service.errors import Invalid
from recordings_service.models import CallTag
from recordings_service.recordings import visible_calls

MAX_TAG_CHARS = 60


def tag_key(tag: str) -> str:
    """The form a tag is compared in: whitespace collapsed, in Unicode's canonical caseless form (`caseless_key`)."""
    return caseless_key(" ".join(tag.split()))


def checked_tag(tag: str) -> str:
    """The tag to put on calls, spaces collapsed; refused blank, too long, or not one line of visible text."""
    cleaned = named_tag(tag)
    # A new tag's key fits in as many characters as the tag, and folding can lengthen it ("ß" is "ss"); the column is
    # wider for the keys of tags stored before, which migration 0049 recomputed.
    if len(tag_key(cleaned)) > MAX_TAG_CHARS:
        raise Invalid("tag", f"at most {MAX_TAG_CHARS} characters", code="too_long")
    # A zero-width space or a bidi override (U+202E) alone showed as an empty tag, or turned the text after it round,
    # on the call list, its filter and CSV exports; an escape or U+0001 was stored in the tag as typed.
    refuse_invisible_in_tag(cleaned, field="tag")
    return cleaned


def refuse_invisible_in_tag(tag: str, *, field: str) -> None:
    """`Invalid` naming `field` (why `invisible_in_tag`) where `tag` is not one line of visible text: it holds a
    control or format character, or is zero-width joiners alone (the shared `first_unseen` check). A clip's tags are
    held to it too (`training.clip_tags`)."""
    refuse_unseen(tag, field=field, what="a tag", why="invisible_in_tag")


def named_tag(tag: str) -> str:
    """A tag as typed to name one (spaces collapsed), refused blank or too long: what taking a tag off checks, so
    that a tag stored before the checks of `checked_tag` stays removable."""
    cleaned = " ".join(tag.split())
    if not cleaned:
        raise Invalid("tag", "enter a tag", code="missing")
    if len(cleaned) > MAX_TAG_CHARS:
        raise Invalid("tag", f"at most {MAX_TAG_CHARS} characters", code="too_long")
    return cleaned


def tag_calls(session: Session, *, actor: Actor, recording_ids: Sequence[str], tag: str) -> int:
    """Put `tag` on each chosen call (a call that has it already keeps it); how many calls newly got it."""
    cleaned = checked_tag(tag)
    key = tag_key(cleaned)
    calls = visible_calls(session, actor=actor, recording_ids=recording_ids, refused_action="recording.access_denied")
    insert = upsert_insert(session)
    added = 0
    for call in calls:
        tag_id = new_id()
        # A tag already there (one tagging at the same moment included: a double-clicked button) stays as it is,
        # where checking first and inserting then met the other's row at the unique key, a 500.
        inserted = session.scalar(
            insert(CallTag)
            .values(id=tag_id, recording_id=call.id, tag=cleaned, key=key, tagged_by=actor.id)
            .on_conflict_do_nothing(index_elements=[CallTag.recording_id, CallTag.key])
            .returning(CallTag.id)
        )
        if inserted is None:
            continue
        # The tag's id, not its words: free text may name a person.
        record_event(
            session,
            actor=actor,
            action="recording.tagged",
            object_type="recording",
            object_id=call.id,
            details={"tag_id": tag_id},
        )
        added += 1
    return added


def untag_calls(session: Session, *, actor: Actor, recording_ids: Sequence[str], tag: str) -> int:
    """Take `tag` (in any case or spacing) off each chosen call that has it; how many calls lost it. Each is audited
    as `recording.untagged`, naming the tag row that went."""
    key = tag_key(named_tag(tag))
    calls = visible_calls(session, actor=actor, recording_ids=recording_ids, refused_action="recording.access_denied")
    removed = session.execute(
        delete(CallTag)
        .where(CallTag.key == key, CallTag.recording_id.in_([call.id for call in calls]))
        .returning(CallTag.id, CallTag.recording_id),
        execution_options={"synchronize_session": False},
    ).all()
    for tag_id, recording_id in sorted(removed, key=lambda row: row.recording_id):
        record_event(
            session,
            actor=actor,
            action="recording.untagged",
            object_type="recording",
            object_id=recording_id,
            details={"tag_id": tag_id},
        )
    return len(removed)


def tags_of(session: Session, recording_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each call's tags, alphabetically."""
    if not recording_ids:
        return {}
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(CallTag.recording_id, CallTag.tag)
        .where(CallTag.recording_id.in_(recording_ids))
        .order_by(CallTag.recording_id, CallTag.key)
    )
    for recording_id, tag in rows:
        found.setdefault(recording_id, []).append(tag)
    return found
