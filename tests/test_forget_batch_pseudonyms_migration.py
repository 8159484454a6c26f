"""Migration 0043 forgets the pseudonyms of research batches closed or rejected before it (their items' and their
follow-ups'), as batches now forget them when they close; an open batch keeps them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from recordings_service import schema
from tests.factories.migrations import database_at

NOW = "2026-12-01 12:00:00"
FLAGS = [{"kind": "erasure", "request_id": "R1", "customer_pseudonyms": ["customer-x"], "flagged_at": NOW}]
ROWS = [
    "INSERT INTO research_institutes (id, name, country, agreement_ref, agreement_date, contact, created_at)"
    " VALUES ('I1', 'Lab', 'FI', 'A-1', '2026-01-01', 'lab@example.org', :now)",
    *(
        "INSERT INTO research_batches (id, study, purpose, institute_id, criteria, audio, metadata_fields, study_end,"
        " access_start, access_end, state, selected, excluded, created_at, build_done, build_attempts,"
        f" items_withdrawn, downloads, reminders_sent, follow_up) VALUES ('{batch}', 's', 'p', 'I1', '{{}}',"
        f" 'original', '[]', '2027-01-01', :now, :now, '{batch}', 1, '{{}}', :now, 0, 0, 0, 1, 0, :flags)"
        for batch in ("closed", "rejected", "ready")
    ),
    *(
        "INSERT INTO research_batch_items (id, batch_id, position, recording_id, customer_id, call_pseudonym,"
        f" customer_pseudonym, agent_pseudonym) VALUES ('item-{batch}', '{batch}', 1, 'R', 'C', 'call-x',"
        " 'customer-x', 'agent-x')"
        for batch in ("closed", "rejected", "ready")
    ),
]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_ended_batches_forget_their_pseudonyms_and_an_open_one_keeps_them(kind: str, tmp_path: Path) -> None:
    with database_at("0042_rate_counts", kind, tmp_path) as engine:
        with engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row), {"now": NOW, "flags": json.dumps(FLAGS)})

        schema.upgrade(engine)

        with engine.connect() as connection:
            items = connection.execute(
                text("SELECT batch_id, call_pseudonym, customer_pseudonym, agent_pseudonym FROM research_batch_items")
            ).all()
            flags = dict(connection.execute(text("SELECT id, follow_up FROM research_batches")).all())
        assert sorted(tuple(item) for item in items) == [
            ("closed", None, None, None),
            ("ready", "call-x", "customer-x", "agent-x"),
            ("rejected", None, None, None),
        ]
        pseudonyms = {
            batch: [flag["customer_pseudonyms"] for flag in (json.loads(raw) if isinstance(raw, str) else raw)]
            for batch, raw in flags.items()
        }
        assert pseudonyms == {"closed": [[]], "rejected": [[]], "ready": [["customer-x"]]}
