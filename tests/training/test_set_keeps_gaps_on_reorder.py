"""A set keeps the places of clips whose call is gone from trainers (deleted by retention, or restricted under
GDPR Art. 18) "whatever their state"; its owner still reorders the set, and takes other clips out, around such a
gap (found by exploratory testing: with a clip of a call restricted since in it, every change to the set's clips
was 404 "recording … not found", audited as a refused request for that call, and the set could no longer be
rearranged)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training import clips, sets
from recordings_service.training.clip_views import ClipStatus
from recordings_service.training.clips import ClipText
from recordings_service.training_rules import TrainingRules
from tests.factories.privacy import OFFICER
from tests.factories.training import stereo_call, trainer

RULES = TrainingRules()


@pytest.mark.parametrize("gone", ["retention", "restricted"])
def test_a_set_with_a_clip_of_a_call_gone_from_trainers_is_still_reordered_around_it(
    session: Session,
    sessions: sessionmaker[Session],
    store: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
    gone: str,
) -> None:
    actor = trainer(session)
    kept = stereo_call(session, store, envelope)
    due = stereo_call(session, store, envelope, retain_until=utcnow() + timedelta(days=1))

    def cut(recording_id: str, window: tuple[float, float]) -> str:
        return clips.cut_clip(
            session,
            store,
            envelope,
            actor=actor,
            recording_id=recording_id,
            start_s=window[0],
            end_s=window[1],
            text=ClipText(title=f"From {window[0]:g} s"),
            rules=RULES,
            ffmpeg=settings.ffmpeg_path(),
            tone=False,
        ).made.id

    gap, first, second = cut(due.id, (9.3, 17.3)), cut(kept.id, (0.5, 3.5)), cut(kept.id, (9.3, 14.4))
    made = sets.create_set(
        session, envelope, actor=actor, title="Renewals", clip_ids=[gap, first, second], rules=RULES
    ).made
    if gone == "retention":
        sweep(sessions, store, now=utcnow() + timedelta(days=2), batch=10, actor=OFFICER, dry_run=False)
        session.expire_all()
    else:
        due.restricted = True  # GDPR Art. 18: for compliance only from now on
        session.flush()

    sets.update_set(session, envelope, actor=actor, set_id=made.id, clip_ids=[second, gap, first], rules=RULES)
    sets.update_set(session, envelope, actor=actor, set_id=made.id, clip_ids=[second, gap], rules=RULES)

    refused = select(AuditEvent).where(AuditEvent.object_id == due.id, AuditEvent.action.like("%denied"))
    assert session.scalars(refused).all() == []  # nobody asked for the call itself
    view = sets.view_set(session, envelope, actor=actor, set_id=made.id, rules=RULES)
    assert [(item.clip.id, item.status) for item in view.items] == [
        (second, ClipStatus.AVAILABLE),
        (gap, ClipStatus.REMOVED if gone == "retention" else ClipStatus.WITHDRAWN),
    ]
