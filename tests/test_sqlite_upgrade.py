"""`callvault db upgrade` of a SQLite database that holds rows, as a trial install on the embedded defaults does:
migrations that rebuild a table other rows refer to (0021 rebuilds `users`) go through, and one that fails
leaves the database as it was, so that the upgrade can be run again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from recordings_service import schema
from recordings_service.db import make_engine
from recordings_service.errors import Conflict

OLD = "0020_transcripts_at_rest"
USER = "01JUSERAAAAAAAAAAAAAAAAAAA"


def _database_at_0020_with_an_account(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")  # with Callvault's pragmas, foreign keys on, as `callvault` runs it
    schema.upgrade(engine, OLD)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, active, created_at, session_version,"
                " failed_logins) VALUES (:id, 'anna', 'Anna', 'admin', 1, '2026-11-01 10:00:00.000000', 1, 0)"
            ),
            {"id": USER},
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (id, user_id, scope, token_hash, created_at, source)"
                " VALUES ('01JTOKENAAAAAAAAAAAAAAAAAA', :user, 'ingest', :hash, '2026-11-01 10:00:00.000000', 'pbx')"
            ),
            {"user": USER, "hash": "0" * 64},
        )
    return engine


def test_a_database_with_accounts_and_tokens_upgrades_to_the_head(tmp_path: Path) -> None:
    engine = _database_at_0020_with_an_account(tmp_path / "callvault.db")

    schema.upgrade(engine)

    assert schema.migration_state(engine) == "head"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT username FROM users")).scalars().all() == ["anna"]
        assert connection.execute(text("SELECT user_id FROM api_tokens")).scalars().all() == [USER]
        # The pragma is back on for whoever uses the pooled connection next.
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_failed_upgrade_changes_nothing_and_can_be_run_again(tmp_path: Path) -> None:
    engine = _database_at_0020_with_an_account(tmp_path / "callvault.db")
    with engine.connect() as connection:
        tables_before = set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
    # A token whose account is gone (written with the references off, as a hand repair could have left it): the
    # migrations would carry it over, and the check before the commit refuses the lot.
    orphan = make_engine(f"sqlite:///{tmp_path / 'callvault.db'}")
    with orphan.connect() as connection:
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        connection.execute(
            text(
                "INSERT INTO api_tokens (id, user_id, scope, token_hash, created_at) VALUES"
                " ('01JTOKENBBBBBBBBBBBBBBBBBB', '01JGONEAAAAAAAAAAAAAAAAAAA', 'ingest', :hash,"
                " '2026-11-01 10:00:00.000000')"
            ),
            {"hash": "1" * 64},
        )
        connection.commit()
    orphan.dispose()

    with pytest.raises(Conflict, match=r"api_tokens -> users"):
        schema.upgrade(engine)

    assert schema.current_revisions(engine) == {OLD}
    with engine.connect() as connection:
        tables_after = set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
    assert tables_after == tables_before  # 0021's evaluation_versions and the later tables were not left behind
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM api_tokens WHERE id = '01JTOKENBBBBBBBBBBBBBBBBBB'"))
    schema.upgrade(engine)
    assert schema.migration_state(engine) == "head"
