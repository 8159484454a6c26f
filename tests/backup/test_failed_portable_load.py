"""A portable dump the database refuses: a one-line refusal, and an empty database to run the restore again in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from recordings_service import schema
from recordings_service.backup import archive
from recordings_service.db import make_engine
from recordings_service.errors import Conflict

HEAD_ROW = {"id": 1, "seq": 0, "last_hash": "0" * 64}


def portable_backup(directory: Path, head_row: dict[str, object]) -> dict[str, object]:
    """A portable dump of one row, and the manifest part a database restore reads."""
    directory.mkdir(exist_ok=True)
    dump = directory / archive.PORTABLE_DUMP
    dump.write_text(json.dumps({"table": "audit_chain_head", "row": head_row}) + "\n")
    revisions = sorted(schema.head_revisions())
    return {"database": {"kind": "portable", "file": archive.PORTABLE_DUMP, "revisions": revisions}}


def test_a_dump_with_a_refused_row_leaves_no_tables_and_the_fixed_dump_restores(
    empty_database: str, tmp_path: Path
) -> None:
    engine = make_engine(empty_database)
    try:
        bad = portable_backup(tmp_path / "backup", {**HEAD_ROW, "last_hash": None})
        with pytest.raises(Conflict) as refused:
            archive.restore_database(engine, tmp_path / "backup", bad)
        assert "table audit_chain_head could not be inserted" in refused.value.message
        assert "\n" not in refused.value.message
        assert inspect(engine).get_table_names() == []
        if engine.dialect.name == "sqlite":  # the FTS5 search index and its shadow tables too
            with engine.connect() as connection:
                assert connection.scalars(text("SELECT name FROM sqlite_master")).all() == []
        else:  # the search index's text search configurations too, which failed a pg_restore into the schema after
            with engine.connect() as connection:
                left = connection.scalars(
                    text(
                        "SELECT cfgname FROM pg_ts_config WHERE cfgnamespace = current_schema()::regnamespace"
                        " UNION ALL"
                        " SELECT dictname FROM pg_ts_dict WHERE dictnamespace = current_schema()::regnamespace"
                    )
                ).all()
                assert left == []

        fixed = portable_backup(tmp_path / "backup", HEAD_ROW)
        archive.restore_database(engine, tmp_path / "backup", fixed)
        assert "audit_chain_head" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
