"""A malformed setting, a data directory that is a file, and a database that cannot be used (not there, or its
schema never put in) are one-line errors naming what to fix, exit status 1; each was a Python traceback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.runtime import Runtime
from tests.live_server import free_port
from web import cli, cli_support


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1, result.output
    return result.output


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("CALLVAULT_PORT", "abc", "CALLVAULT_PORT must be an integer, got 'abc'"),
        ("CALLVAULT_TIMEZONE", "Mars/Base", "CALLVAULT_TIMEZONE must name a time zone"),
        ("CALLVAULT_HTTPS", "maybe", "CALLVAULT_HTTPS must be true or false, got 'maybe'"),
        ("CALLVAULT_DATABASE_URL", "nonsense", "CALLVAULT_DATABASE_URL: Could not parse"),
    ],
)
def test_a_malformed_setting_is_named(tmp_path: Path, variable: str, value: str, said: str) -> None:
    env = {"CALLVAULT_DATA_DIR": str(tmp_path / "var"), variable: value}

    assert said in one_line_error(CliRunner().invoke(cli.main, ["users", "list"], env=env))


def test_a_data_directory_that_is_a_file_is_named(tmp_path: Path) -> None:
    taken = tmp_path / "var"
    taken.write_text("")

    said = one_line_error(CliRunner().invoke(cli.main, ["users", "list"], env={"CALLVAULT_DATA_DIR": str(taken)}))

    assert str(taken) in said and "CALLVAULT_DATA_DIR" in said


def test_a_database_without_the_schema_says_to_upgrade_it(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    unusable = replace(runtime, engine=engine, sessions=make_sessionmaker(engine))
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: unusable)

    said = one_line_error(CliRunner().invoke(cli.main, ["users", "list"]))

    assert "the database cannot be used: no such table" in said and "callvault db upgrade" in said


def test_a_database_server_that_does_not_answer_is_said_so(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    closed_port = free_port()  # nothing listens there once the probe is closed
    engine = make_engine(f"postgresql+psycopg://callvault@127.0.0.1:{closed_port}/callvault")
    unusable = replace(runtime, engine=engine, sessions=make_sessionmaker(engine))
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: unusable)

    said = one_line_error(CliRunner().invoke(cli.main, ["users", "list"]))

    assert said.startswith("Error: the database cannot be used: ") and str(closed_port) in said
