"""Migration 0047 registers the keys that signed the trail before it, so that the check at start (a process must
hold every one of them) covers a trail from an earlier release too, not only keys registered since, and the chain's
head names the key of the newest event."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.models import AuditChainHead, AuditSigningKey
from tests.factories.migrations import database_at

BEFORE = "0046_recordings_created_at_index"
EVENT = text(
    "INSERT INTO audit_events (id, seq, occurred_at, action, details, prev_hash, hash, key_id)"
    " VALUES (:id, :seq, '2026-12-01 12:00:00', 'recording.viewed', '{}', :prev, :hash, :key)"
)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_keys_that_signed_events_before_it_are_registered(kind: str, tmp_path: Path) -> None:
    # Unkeyed events (before migration 0018), then two keys, the first again after the second.
    signers = [None, "aaaaaaaaaaaa", "bbbbbbbbbbbb", "aaaaaaaaaaaa"]
    with database_at(BEFORE, kind, tmp_path) as engine:
        with engine.begin() as connection:
            for seq, key in enumerate(signers, start=1):
                values = {"id": f"E{seq:025d}", "seq": seq, "prev": f"{seq - 1:064d}", "hash": f"{seq:064d}"}
                connection.execute(EVENT, values | {"key": key})
            connection.execute(text("UPDATE audit_chain_head SET seq = :seq"), {"seq": len(signers)})

        schema.upgrade(engine)

        with Session(engine) as session:
            registered = session.scalars(select(AuditSigningKey.key_id).order_by(AuditSigningKey.key_id)).all()
            newest_signed_by = session.scalar(select(AuditChainHead.key_id))
        assert registered == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
        assert newest_signed_by == "aaaaaaaaaaaa"  # the head's: a key signing after it is registered then
