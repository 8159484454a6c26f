"""Two sweeps at once name each deletion in one receipt only.

Found acting as a compliance officer reading the receipts of two jobs processes started together: their daily
sweeps ran side by side, and the one that finished first took the other's committed deletions for an interrupted
run's (`from_interrupted_runs`), so both receipts named them and the receipts counted more deletions than there
were tombstones. A receipt now claims the tombstones it names; those another receipt named already are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service.db import utcnow
from recordings_service.models import DeletionReceipt, Tombstone
from recordings_service.privacy.deletion import delete_due
from recordings_service.privacy.sweep import record_receipt
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, aged_call

LONG_AGO = datetime.now(UTC) - timedelta(days=800)  # past every default period but verification's


def test_a_deletion_named_by_the_sweep_that_finished_first_is_not_named_again(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    first, second = (aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]) for _ in "ab")
    session.commit()
    started = utcnow()
    # One sweep has deleted `first` (its batch committed) and is still deleting objects when the other runs whole.
    with sessions() as running:
        delete_due(running, recording_ids=[first.id], now=started, actor=OFFICER)
        running.commit()
    finished_first = sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False).receipt
    assert finished_first is not None
    assert (finished_first.recordings, finished_first.counts["from_interrupted_runs"]) == (2, 1)
    # Then the first sweep writes its receipt for what it deleted.
    with sessions() as running:
        late = record_receipt(
            running,
            actor=OFFICER,
            kind="sweep",
            started_at=started,
            finished_at=utcnow(),
            deleted_ids=[first.id],
            counts={"data_keys": 1},
        )
        running.commit()

    named = session.scalar(select(func.sum(DeletionReceipt.recordings)))
    assert named == session.scalar(select(func.count()).select_from(Tombstone)) == 2
    assert (late.recordings, late.first_recording_id, late.counts.get("recordings")) == (0, None, 0)
    assert second.id in (finished_first.first_recording_id, finished_first.last_recording_id)
