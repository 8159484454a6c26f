"""Redacting again what people wrote for trainers (`callvault redaction refresh`): a nomination's note, a clip's
title, tags and notes, a set's title and description, and the title an export keeps of its set.

Each was redacted when it was written, by that release's detectors and customer-number rule. Like the
transcripts' twins, they are redacted again when those change, or a name or number found only now would stay in
what every trainer the text is shared with, and every export, reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.models import Nomination, Recording, TrainingClip, TrainingExport, TrainingSet
from recordings_service.training import clip_tags, clips, nominations, sets
from recordings_service.training.redacted_text import Redactor, call_text_redactor, free_text_redactor

WrittenRow = Nomination | TrainingClip | TrainingSet | TrainingExport


@dataclass(frozen=True)
class WrittenText:
    """One kind of row written for trainers: its text fields with their limits, and how its text is redacted."""

    model: type[WrittenRow]
    limits: dict[str, int]
    redactor: Callable[[Session, Any, str | None], Redactor]
    # Where its refresh is audited: (object type, object id, details naming the row)
    audited_as: Callable[[Any], tuple[str, str, dict[str, str]]]


def _about_its_call(session: Session, row: Nomination | TrainingClip, pattern: str | None) -> Redactor:
    recording = session.get_one(Recording, row.recording_id)
    return call_text_redactor(session, recording, customer_number_pattern=pattern)


def _free_text(session: Session, row: TrainingSet | TrainingExport, pattern: str | None) -> Redactor:
    return free_text_redactor(customer_number_pattern=pattern)


WRITTEN_TEXTS = (
    WrittenText(
        Nomination,
        {"note": nominations.MAX_NOTE},
        _about_its_call,
        lambda row: ("recording", row.recording_id, {"nomination_id": row.id}),
    ),
    WrittenText(
        TrainingClip,
        {"title": clips.MAX_TITLE, "tags": clip_tags.MAX_TAG, "notes": clips.MAX_NOTES},
        _about_its_call,
        lambda row: ("recording", row.recording_id, {"clip_id": row.id}),
    ),
    WrittenText(
        TrainingSet,
        {"title": clips.MAX_TITLE, "description": sets.MAX_DESCRIPTION},
        _free_text,
        lambda row: ("training_set", row.id, {}),
    ),
    WrittenText(
        TrainingExport,
        {"title": clips.MAX_TITLE},
        _free_text,
        lambda row: ("training_set", row.set_id, {"export_id": row.id}),
    ),
)


def written_after(session: Session, *, kind: WrittenText, after: str, limit: int) -> list[Any]:
    """The next `limit` rows of `kind` by id, locked against an edit meanwhile; a clip removed with its call or by
    its author has no text left to redact."""
    query = select(kind.model).where(kind.model.id > after)
    if kind.model is TrainingClip:
        query = query.where(TrainingClip.removed_at.is_(None))
    return list(
        session.scalars(
            query.order_by(kind.model.id).limit(limit).with_for_update().execution_options(populate_existing=True)
        )
    )


def refresh_written(
    session: Session, row: Any, *, kind: WrittenText, actor: Actor, customer_number_pattern: str | None, dry_run: bool
) -> bool:
    """Redact the row's text again; whether any of it comes out different (rewritten, and audited
    `training.text_redaction_refreshed` naming the fields, never their text, unless `dry_run`)."""
    redact = kind.redactor(session, row, customer_number_pattern)
    changed: dict[str, Any] = {}
    shortened: list[str] = []
    for field, limit in kind.limits.items():
        was = getattr(row, field)
        if isinstance(was, list):  # a clip's tags: each within the limit, one per key as an edit writes them
            tags = [redact(tag) for tag in was]
            within = [_within(tag, limit) for tag in tags]
            # As stored where redaction changed none: a clip saved before tags were one per key keeps both spellings.
            now: Any = was if within == was else list(clip_tags.one_per_key(within))
            cut = any(len(tag) > limit for tag in tags)
        else:
            redacted = redact(was)
            now, cut = _within(redacted, limit), len(redacted) > limit
        if now != was:
            changed[field] = now
            if cut:
                shortened.append(field)
    if not changed:
        return False
    if not dry_run:
        for field, now in changed.items():
            setattr(row, field, now)
        object_type, object_id, naming = kind.audited_as(row)
        record_event(
            session,
            actor=actor,
            action="training.text_redaction_refreshed",
            object_type=object_type,
            object_id=object_id,
            details={**naming, "fields": sorted(changed), "shortened": shortened},
        )
    return True


def _within(text: str, limit: int) -> str:
    """Text the placeholders made longer than its field holds is cut, marked by an ellipsis: unlike a refusal when
    it is written, no one is there to shorten it, and its personal data must not stay."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
