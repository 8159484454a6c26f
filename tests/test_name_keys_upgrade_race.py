"""Migration 0050 on PostgreSQL while a process of the release before still writes (infra/README.md): a call that
process commits during the upgrade, after the recomputation has passed its id, gets the canonical keys too. The
trigger's new function is not seen by other sessions until the upgrade commits, so such a call was keyed by case
alone and stayed so (its decomposed queue not found by the composed spelling)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from recordings_service import schema
from tests.factories.migrations import database_at
from tests.test_name_keys_migration import BEFORE, COMPOSED, DECOMPOSED, INSERT, _call, _found, _id

# The upgrade's write of a call, waiting for a row lock.
WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    " AND query LIKE 'UPDATE recordings SET queue_key%'"
)


@pytest.mark.postgres
def test_a_call_the_release_before_commits_while_the_keys_are_recomputed_gets_the_canonical_keys(
    tmp_path: Path,
) -> None:
    with database_at(BEFORE, "postgresql", tmp_path) as engine:
        with engine.begin() as connection:
            connection.execute(INSERT, [_call(10, DECOMPOSED, "agent-1")])
        failures: list[BaseException] = []

        def upgrade() -> None:
            try:
                schema.upgrade(engine)
            except BaseException as error:  # told to the test, below
                failures.append(error)

        # The recomputation's write of call 10 waits for this lock: the upgrade is then under way, its new function
        # made, its scan past call 5.
        with engine.connect() as holder:
            holder.execute(text("SELECT id FROM recordings WHERE id = :id FOR UPDATE"), {"id": _id(10)})
            upgrading = threading.Thread(target=upgrade)
            upgrading.start()
            for _ in range(200):
                with engine.connect() as probe:
                    waiting = probe.scalar(WAITING)
                if waiting:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the upgrade never reached the recomputation")
            # The release before's ingest of a call whose id was made before its upload began (lower than 10).
            with engine.begin() as older:
                older.execute(INSERT, [_call(5, DECOMPOSED, "agent-1")])
            holder.rollback()
        upgrading.join(60)
        assert not failures

        assert _found(engine, queue=COMPOSED) == [_id(5), _id(10)]
