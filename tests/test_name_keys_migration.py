"""Migration 0050 keys the queues and agents of the calls stored before it in Unicode's canonical caseless form, so
that "Sähkö" typed with decomposed letters and "SÄHKÖ" typed composed are one queue on either database, writing only
the calls whose keys change; a key that composing lengthens to 300 characters fits. On PostgreSQL the trigger composes
the keys a process of the release before writes. The downgrade folds the keys by case alone again."""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.calls.search import SearchFilters, search_calls
from tests.factories.migrations import database_at
from tests.factories.search import QA

BEFORE = "0049_tag_keys_canonical"
BATCH = 5000  # the migration's: the calls whose keys change come in its second batch
STARTED = "2026-11-30 12:00:00"
INSERT = text(
    "INSERT INTO recordings (id, source, external_call_id, started_at, duration_s, direction, queue, agent_ref,"
    " queue_key, agent_key, language, channels, codec, sample_rate, size_bytes, sha256, storage_key,"
    " wrapped_data_key, master_key_id, notice_given, status, purposes, legal_hold, restricted, created_at,"
    " updated_at) VALUES (:id, 'pbx', :id, :started, 30.0, 'inbound', :queue, :agent, :queue_key, :agent_key, 'fi',"
    " 1, 'pcm_s16le', 8000, 1, :sha, :id, :key, 1, :yes, 'transcribed', '[\"verification\"]', :no, :no, :started,"
    " :started)"
)
COMPOSED = "SÄHKÖ"
DECOMPOSED = unicodedata.normalize("NFD", "Sähkö")
GREEK = "\u03aa\u0301"  # the capital "Ϊ" + U+0301, folded by case alone to "ϊ" + U+0301; the small "ΐ" to ι + ̈ + ́
# 100 Hebrew presentation forms (U+FB2C), a queue as long as one may be: its key of 300 characters (NFC decomposes it).
HEBREW = "\ufb2c" * 100


def _id(number: int) -> str:
    return f"R{number:025d}"


def _call(number: int, queue: str, agent: str, *, key_of: Callable[[str], str] = str.casefold) -> dict[str, object]:
    """A call as the release before stored it: keyed by case alone (`key_of`)."""
    return {"id": _id(number), "queue": queue, "agent": agent, "queue_key": key_of(queue), "agent_key": key_of(agent),
            "started": STARTED, "sha": "0" * 64, "key": b"k", "yes": True, "no": False}  # fmt: skip


# The calls whose keys change, by number: the decomposed "Sähkö", the Greek queue, "Straße" keyed by PostgreSQL's
# `lower()` (a release before 0045 stored it), and the Hebrew queue.
CHANGED = (BATCH + 1, BATCH + 2, BATCH + 3, BATCH + 4)


def _rows() -> list[dict[str, object]]:
    """`BATCH` calls of "sales", then "SÄHKÖ" taken by "ÅSA" (composed: its key stays), then the calls of `CHANGED`."""
    rows = [_call(number, "sales", "agent-1") for number in range(BATCH)]
    rows += [
        _call(BATCH, COMPOSED, "ÅSA"),
        _call(BATCH + 1, DECOMPOSED, unicodedata.normalize("NFD", "Åsa")),
        _call(BATCH + 2, GREEK, "agent-1"),
        _call(BATCH + 3, "Straße", "agent-1", key_of=str.lower),
        _call(BATCH + 4, HEBREW, "agent-1"),
    ]
    return rows


def _found(engine: Engine, **filters: str) -> list[str]:
    with Session(engine) as session:
        page = search_calls(session, actor=QA, filters=SearchFilters(**filters), limit=10)
        session.commit()
        return sorted(item.recording.id for item in page.items)


def _keys(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, queue_key, agent_key FROM recordings WHERE id >= :r"), {"r": _id(BATCH)}
        )
        return {row_id: (queue_key, agent_key) for row_id, queue_key, agent_key in rows}


def _row_versions(engine: Engine) -> dict[str, str]:
    """Each call's row version on PostgreSQL (`xmin`: a row written anew gets another)."""
    with engine.connect() as connection:
        return {
            row_id: version for row_id, version in connection.execute(text("SELECT id, xmin::text FROM recordings"))
        }


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_calls_stored_before_are_one_queue_in_either_unicode_form_and_the_downgrade_folds_case_alone(
    kind: str, tmp_path: Path
) -> None:
    with database_at(BEFORE, kind, tmp_path) as engine:
        with engine.begin() as connection:
            connection.execute(INSERT, _rows())
        sahko = [_id(BATCH), _id(BATCH + 1)]
        # The release before's keys: the decomposed one apart (read in SQL: the models are this release's, whose
        # later columns the schema before lacks).
        keys = _keys(engine)
        assert keys[sahko[0]][0] != keys[sahko[1]][0]
        versions = _row_versions(engine) if kind == "postgresql" else {}

        schema.upgrade(engine)

        for typed in (COMPOSED, DECOMPOSED, "sähkö"):
            assert _found(engine, queue=typed) == sahko, typed
        assert _found(engine, agent_ref="åsa") == sahko
        assert _found(engine, queue="\u0390") == [_id(BATCH + 2)]
        assert _found(engine, queue="STRASSE") == [_id(BATCH + 3)]
        assert _found(engine, queue=HEBREW) == [_id(BATCH + 4)]  # under its key of 300 characters
        keys = _keys(engine)
        assert all(unicodedata.is_normalized("NFC", key) for pair in keys.values() for key in pair)
        assert keys[_id(BATCH + 1)] == ("sähkö", "åsa") and len(keys[_id(BATCH + 4)][0]) == 300
        if kind == "postgresql":  # only the calls whose keys changed were written
            written = {row_id for row_id, version in _row_versions(engine).items() if versions[row_id] != version}
            assert written == {_id(number) for number in CHANGED}

        config = schema.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, BEFORE)

        folded = _keys(engine)
        assert folded[_id(BATCH + 1)] == (DECOMPOSED.casefold(), unicodedata.normalize("NFD", "åsa"))
        assert folded[_id(BATCH + 2)][0] == GREEK.casefold() and folded[_id(BATCH + 4)][0] == HEBREW
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM recordings WHERE queue_key = 'sales'")) == BATCH

        schema.upgrade(engine)

        assert _found(engine, queue=DECOMPOSED) == sahko


@pytest.mark.postgres
def test_a_call_the_release_before_writes_during_the_upgrade_gets_the_canonical_keys(tmp_path: Path) -> None:
    """A web or jobs process of the release before, on a host not yet upgraded while another is (infra/README.md),
    keys the calls it inserts or rectifies by case alone, and one of a release before 0045 not at all: PostgreSQL's
    trigger composes the keys, so such a call typed decomposed is found by its composed spelling."""
    with database_at(BEFORE, "postgresql", tmp_path) as engine:
        schema.upgrade(engine)
        decomposed = unicodedata.normalize("NFD", "ÄÄNI")
        older = _call(1, DECOMPOSED, unicodedata.normalize("NFD", "Åsa"))
        oldest = {**_call(2, decomposed, "agent-1"), "queue_key": None, "agent_key": None}
        with engine.begin() as connection:
            connection.execute(INSERT, [older, oldest])
            connection.execute(INSERT, [_call(3, "sales", "agent-1")])
            # The release before's rectification: the queue and its key folded by case alone.
            connection.execute(
                text("UPDATE recordings SET queue = :queue, queue_key = :key WHERE id = :id"),
                {"queue": decomposed, "key": decomposed.casefold(), "id": _id(3)},
            )

        assert _found(engine, queue=COMPOSED) == [_id(1)]
        assert _found(engine, agent_ref="ÅSA") == [_id(1)]
        assert _found(engine, queue="ääni") == [_id(2), _id(3)]
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT queue_key FROM recordings ORDER BY id")).scalars().all()
        assert keys == ["sähkö", "ääni", "ääni"]


# Migration 0050 on PostgreSQL while a process of the release before still writes (infra/README.md): a call that
# process commits during the upgrade, after the recomputation has passed its id, gets the canonical keys too. The
# trigger's new function is not seen by other sessions until the upgrade commits, so such a call was keyed by case
# alone and stayed so (its decomposed queue not found by the composed spelling).

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
