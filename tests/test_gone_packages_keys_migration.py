"""Migration 0041 takes the data keys of packages gone before it (crypto-shredding, as packages now lose them as they
go): an expired, failed or withdrawn access package's and a purged research package's; a ready one's stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from recordings_service import schema
from tests.factories.migrations import database_at

NOW = "2026-12-01 12:00:00"
ROWS = [
    "INSERT INTO customers (id, customer_ref, objects_to_marketing, objects_to_research, updated_at)"
    " VALUES ('C1', 'CRM-1', :no, :no, :now)",
    *(
        "INSERT INTO subject_requests (id, customer_id, kind, received_at, due_at, chargeable, outcome, created_at,"
        f" package_attempts, package_state, package_wrapped_key, package_master_key_id) VALUES ('{state}', 'C1',"
        " 'access', :now, :now, :no, '{}', :now, 1, :state_" + state + ", :key, 7)"
        for state in ("expired", "failed", "withdrawn", "ready")
    ),
    "INSERT INTO research_institutes (id, name, country, agreement_ref, agreement_date, contact, created_at)"
    " VALUES ('I1', 'Lab', 'FI', 'A-1', '2026-01-01', 'lab@example.org', :now)",
    *(
        "INSERT INTO research_batches (id, study, purpose, institute_id, criteria, audio, metadata_fields, study_end,"
        " access_start, access_end, state, selected, excluded, created_at, build_done, build_attempts,"
        " items_withdrawn, downloads, reminders_sent, follow_up, package_wrapped_key, package_master_key_id,"
        f" package_purged_at) VALUES ('{batch}', 's', 'p', 'I1', '{{}}', 'original', '[]', '2027-01-01', :now,"
        f" :now, 'expired', 0, '{{}}', :now, 0, 0, 0, 0, 0, '[]', :key, 7, {purged})"
        for batch, purged in (("purged", ":now"), ("served", "NULL"))
    ),
]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_gone_packages_lose_their_keys_and_a_ready_one_keeps_it(kind: str, tmp_path: Path) -> None:
    with database_at("0040_drop_mfa_pending_seed", kind, tmp_path) as engine:
        values = {"no": False, "now": NOW, "key": b"wrapped"} | {
            f"state_{state}": state for state in ("expired", "failed", "withdrawn", "ready")
        }
        with engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row), values)

        schema.upgrade(engine)

        with engine.connect() as connection:
            requests = dict(connection.execute(text("SELECT id, package_wrapped_key FROM subject_requests")).all())
            batches = dict(connection.execute(text("SELECT id, package_wrapped_key FROM research_batches")).all())
        assert {key: value is not None for key, value in requests.items()} == {
            "expired": False,
            "failed": False,
            "withdrawn": False,
            "ready": True,
        }
        assert {key: value is not None for key, value in batches.items()} == {"purged": False, "served": True}
