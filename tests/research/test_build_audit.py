"""Building a package with redacted audio is audited as the build (`recording.research_exported` per call and
one `research.package_built`), not as the build account playing each call's redacted audio.

Found by review: loading each call for the package audited `recording.played_redacted` for `research-build`,
in a session its caller then threw away; nobody played anything, and on PostgreSQL writing the event locked
the audit chain's head while the call's transcript was read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import AuditChainHead, AuditEvent, BatchItem, ResearchBatch
from recordings_service.research import package
from recordings_service.runtime import Runtime
from tests.factories.recordings import MONO
from tests.factories.research import research_call


def test_loading_calls_for_a_redacted_package_audits_no_playback(
    session: Session, runtime: Runtime, approved_batch: Callable[..., ResearchBatch]
) -> None:
    calls = [
        research_call(session, runtime.store, runtime.envelope, audio=MONO, channels=1, size_bytes=MONO.stat().st_size)
        for _ in range(2)
    ]
    batch = approved_batch(audio="redacted")
    spec = package.package_spec(
        session, batch_id=batch.id, public_url=runtime.settings.public_url, zone=runtime.settings.zone
    )
    head = session.get_one(AuditChainHead, 1).seq
    [item_id, *_] = package.items_to_write(session, batch_id=batch.id)

    loaded = package.load_call(
        session,
        runtime.store,
        runtime.envelope,
        spec=spec,
        item_id=item_id,
        ffmpeg=runtime.settings.ffmpeg_path(),
        tone=False,
    )

    assert isinstance(loaded, package.CallEntry) and loaded.redacted is not None
    session.expire_all()
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "recording.played_redacted")).all() == []
    assert session.get_one(AuditChainHead, 1).seq == head  # nothing written to the trail, the head not locked
    session.rollback()

    research_jobs.build_batches(runtime)

    session.expire_all()
    built = session.scalars(select(AuditEvent).where(AuditEvent.actor_name == package.BUILD_ACTOR.name)).all()
    exported = {i.recording_id for i in session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id))}
    assert exported == {call.id for call in calls}
    assert Counter((event.action, event.object_id) for event in built) == Counter(
        {("research.package_built", batch.id): 1, **{("recording.research_exported", rid): 1 for rid in exported}}
    )
