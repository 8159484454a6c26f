"""Playing a set shows each available clip's redacted transcript and audio, as opening the clip does; each such
read is audited against its call, so the call's audit trail names every trainer who read it (found by exploratory
testing: a set's player, page or API, wrote one `training.set_viewed` naming the set only, and a compliance
officer asking who read a call's transcript found none of the trainers who read it in a set)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import AuditEvent, Customer
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training import clips, sets
from recordings_service.training.clips import ClipText
from recordings_service.training_rules import TrainingRules
from tests.factories.training import stereo_call, trainer

RULES = TrainingRules()


def test_each_call_whose_clip_a_set_shows_has_the_read_in_its_audit_trail(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    owner, reader = trainer(session), trainer(session)
    objector = Customer(customer_ref="CRM-SET-AUDIT", objects_to_marketing=False)
    session.add(objector)
    session.flush()
    first, second = (
        stereo_call(session, store, envelope, customer_id=objector.id),
        stereo_call(session, store, envelope),
    )
    cut = [
        clips.cut_clip(
            session,
            store,
            envelope,
            actor=owner,
            recording_id=recording.id,
            start_s=1.0,
            end_s=8.0,
            text=ClipText(title=f"Clip {number}"),
            rules=RULES,
            ffmpeg=settings.ffmpeg_path(),
            tone=False,
        ).made
        for number, recording in enumerate((first, second))
    ]
    made = sets.create_set(
        session, envelope, actor=owner, title="Openings", shared=True, clip_ids=[c.id for c in cut], rules=RULES
    ).made
    objector.objects_to_marketing = True  # the first call's clip is withdrawn: nothing of it is shown
    session.flush()

    view = sets.view_set(session, envelope, actor=reader, set_id=made.id, rules=RULES)

    assert [item.status.value for item in view.items] == ["withdrawn", "available"]
    assert view.items[1].transcript and not view.items[0].transcript
    read = session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == reader.id, AuditEvent.action == "training.clip_viewed")
    ).all()
    assert [(event.object_type, event.object_id) for event in read] == [("recording", second.id)]
    assert read[0].details == {"clip_id": cut[1].id, "status": "available", "set_id": made.id}
    viewed = select(AuditEvent).where(AuditEvent.actor_id == reader.id, AuditEvent.action == "training.set_viewed")
    assert session.scalars(viewed).one().object_id == made.id
