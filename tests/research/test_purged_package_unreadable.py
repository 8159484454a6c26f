"""A research package whose objects were purged (its window over) loses its data key: a copy of it left on the store's
disks (SeaweedFS keeps a deleted object's bytes until a compaction) or in a backup of the store cannot be read.

Found by exploratory testing: the purge deleted the objects but kept the wrapped data key in the batch's row for good,
so the data directory, the database and the master key together decrypted the institute's package (calls and
transcripts) after the study's custody had ended."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy.orm import Session

from jobs.custody import expire_batches
from recordings_service.db import utcnow
from recordings_service.research.lifecycle import exports_prefix
from recordings_service.runtime import Runtime
from tests.research.conftest import BuildBatches


def test_a_purged_package_keeps_no_key_to_read_a_copy_of_it(
    session: Session, runtime: Runtime, built_batch: BuildBatches
) -> None:
    [batch] = built_batch()
    assert batch.package_key is not None
    copy = runtime.store.get(batch.package_key).read()
    with runtime.envelope.decrypting_stream(
        io.BytesIO(copy), wrapped=batch.package_wrapped_key, object_id=batch.id
    ) as package:
        assert package.read(4) == b"PK\x03\x04"  # the copy reads while the package is served
    batch.access_end = utcnow() - timedelta(minutes=1)
    session.commit()

    assert expire_batches(runtime)["purged"] == 1

    session.refresh(batch)
    assert list(runtime.store.list_versions(exports_prefix(batch.id))) == []
    assert batch.package_purged_at is not None
    assert (batch.package_wrapped_key, batch.package_master_key_id) == (None, None)
