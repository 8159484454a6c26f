"""A clip or a training set asked for again by the same trainer moments later (a double click, the form sent twice,
a client's retry) is the one they made: the second submission waits for the first (`take_turn`), then finds it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.models import Recording, TrainingClip, TrainingSet
from recordings_service.resubmission import RESENT_WITHIN, take_turn

if TYPE_CHECKING:
    from recordings_service.training.clips import ClipText


def recent_clip(
    session: Session, *, actor: Actor, recording: Recording, span: tuple[float, float], text: ClipText
) -> TrainingClip | None:
    """`actor`'s clip of this span of the call with this text (as kept: redacted) cut in the last `RESENT_WITHIN`
    and not deleted since, if any."""
    take_turn(session, actor)
    if actor.id is None:
        return None
    query = select(TrainingClip).where(
        TrainingClip.created_by == actor.id,
        TrainingClip.recording_id == recording.id,
        TrainingClip.start_s == span[0],
        TrainingClip.end_s == span[1],
        TrainingClip.title == text.title,
        TrainingClip.notes == text.notes,
        TrainingClip.removed_at.is_(None),
        TrainingClip.created_at >= utcnow() - RESENT_WITHIN,
    )
    return next((clip for clip in session.scalars(query) if clip.tags == list(text.tags)), None)


def recent_set(
    session: Session, *, actor: Actor, title: str, description: str, shared: bool, clip_ids: Sequence[str]
) -> TrainingSet | None:
    """`actor`'s set with this title and description (as kept: redacted), sharing and clips in this order, made in
    the last `RESENT_WITHIN`, if any."""
    take_turn(session, actor)
    if actor.id is None:
        return None
    query = select(TrainingSet).where(
        TrainingSet.owner_id == actor.id,
        TrainingSet.title == title,
        TrainingSet.description == description,
        TrainingSet.shared == shared,
        TrainingSet.created_at >= utcnow() - RESENT_WITHIN,
    )
    wanted = list(clip_ids)
    return next((made for made in session.scalars(query) if [i.clip_id for i in made.items] == wanted), None)
