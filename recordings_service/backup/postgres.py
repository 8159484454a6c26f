"""A PostgreSQL database in a backup: `pg_dump` of the service's schema, and `pg_restore` of it into an empty
database, with the client tools' own words when they fail (never a traceback, never a password on a command line)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from recordings_service.errors import Conflict

# The table of contents' entries of a schema itself, as `pg_restore --list` writes them: "4; 2615 2200 SCHEMA - public
# pg_database_owner" and its comment.
_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ SCHEMA - (\S+) ")
_SCHEMA_COMMENT = re.compile(r"^\d+; \d+ \d+ COMMENT - SCHEMA ")


def dump_pg(engine: Engine, out: Path) -> None:
    """`pg_dump` of the schema the service uses (custom format, no owners or privileges) into `out`, made private."""
    with engine.connect() as connection:
        current_schema = connection.scalar(text("SELECT current_schema()"))
    dsn, environment = _libpq(engine.url)
    os.close(os.open(out, os.O_WRONLY | os.O_CREAT, 0o600))
    _run_pg(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--schema={current_schema}",
            f"--file={out}",
            dsn,
        ],
        environment,
    )


def restore_pg_dump(engine: Engine, dump: Path) -> None:
    """Restore `dump` in one transaction (a failed restore leaves the database empty, ready for the next try).

    The schema it holds is made beforehand if missing and its own entries left out: every new database has `public`,
    and the dump's `CREATE SCHEMA public` failed the whole restore of a standard installation's backup."""
    dsn, environment = _libpq(engine.url)
    listed = _run_pg(["pg_restore", "--list", str(dump)], environment)
    kept = [line for line in listed.splitlines() if not _SCHEMA_ENTRY.match(line) and not _SCHEMA_COMMENT.match(line)]
    schemas = [match[1] for line in listed.splitlines() if (match := _SCHEMA_ENTRY.match(line))]
    with engine.begin() as connection:
        for name in schemas:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {engine.dialect.identifier_preparer.quote(name)}"))
    with tempfile.NamedTemporaryFile("w", prefix="callvault-restore-", suffix=".list") as contents:
        contents.write("\n".join(kept) + "\n")
        contents.flush()
        _run_pg(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={contents.name}",
                f"--dbname={dsn}",
                str(dump),
            ],
            environment,
        )


def _run_pg(command: list[str], environment: dict[str, str]) -> str:
    """Run pg_dump or pg_restore, its standard output; a failure is reported with the tool's own error lines (its
    last line alone was "Command was: CREATE SCHEMA public;", not why)."""
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = " ".join([line for line in said if "error" in line.lower()] or said[-1:])
        raise Conflict(f"{command[0]} exited with {done.returncode}: {reason or 'no message'}")
    return done.stdout


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, its password passed in the environment, never argv."""
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment
