"""Migration 0040 drops `users.mfa_pending_seed` (an enrolment link's page now offers each browser its own seed) and
keeps the accounts, their enrolled seeds and their live links, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from recordings_service import schema
from tests.factories.migrations import database_at


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_pending_seed_column_goes_and_the_accounts_stay(kind: str, tmp_path: Path) -> None:
    with database_at("0039_search_indexes_again", kind, tmp_path) as engine:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, username, display_name, role, active, mfa_seed, mfa_pending_seed,"
                    " enrol_token_hash, failed_logins, session_version, created_at)"
                    " VALUES ('01M9500000000000000000000A', 'holder', '', 'trainer', :yes, :seed, :pending,"
                    " 'link-digest', 0, 1, CURRENT_TIMESTAMP)"
                ),
                {"yes": True, "seed": b"sealed-seed", "pending": b"sealed-pending"},
            )

        schema.upgrade(engine)

        assert "mfa_pending_seed" not in {column["name"] for column in inspect(engine).get_columns("users")}
        with engine.connect() as connection:
            row = connection.execute(text("SELECT username, mfa_seed, enrol_token_hash FROM users")).one()
        assert (row.username, bytes(row.mfa_seed), row.enrol_token_hash) == ("holder", b"sealed-seed", "link-digest")
