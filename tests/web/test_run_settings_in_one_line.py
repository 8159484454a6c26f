"""Found by an operator's pass: `callvault run` ended in a Python traceback for a malformed master or audit key, a
shared data directory (after writing a fresh `secrets.env` into it) or an embedded store that did not start (the
cause, such as a full disk, only inside weed.log), where the jobs and web processes say the same in one line. Each is
now one line naming the setting, or quoting weed's last word, and nothing is written into a shared directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from recordings_service import schema
from recordings_service.audit import key_id
from recordings_service.config import Settings
from recordings_service.db import make_engine
from recordings_service.runtime import Runtime
from recordings_service.storage import embedded
from recordings_service.storage.embedded import PORT_SPAN
from recordings_service.storage.encryption import generate_master_key
from tests.conftest import free_port_block
from web import cli

KEYS = {"master_key": generate_master_key(), "audit_key": "the audit key of this installation, long enough"}
SIGNED_EVENT = text(
    "INSERT INTO audit_events (id, seq, occurred_at, action, details, prev_hash, hash, key_id)"
    " VALUES ('01KAUDITEVENTBEFOREUPGRADE', 1, '2026-12-01 12:00:00', 'test.signed_before_the_upgrade', '{}',"
    " :zero, :hash, :key)"
)


def run_with(data_dir: Path, **settings: str) -> tuple[int, str]:
    env = {
        "CALLVAULT_DATA_DIR": str(data_dir),
        "CALLVAULT_S3_ENDPOINT": "",
        "CALLVAULT_PORT": str(free_port_block(1)),
        "CALLVAULT_S3_PORT": str(free_port_block(PORT_SPAN)),
        **{f"CALLVAULT_{name.upper()}": value for name, value in settings.items()},
    }
    return invoke(["run", "--workers", "1"], env)


def invoke(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    kept = os.environ.copy()  # `run` sets the secrets it made in its environment for its children
    try:
        ran = CliRunner().invoke(cli.main, command, env=env)
    finally:
        os.environ.clear()
        os.environ.update(kept)
    return ran.exit_code, ran.output


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"master_key": "abc"}, "CALLVAULT_MASTER_KEY is not a valid base64 Tink AEAD keyset"),
        ({"audit_key": "short"}, "CALLVAULT_AUDIT_KEY and each key in CALLVAULT_AUDIT_KEYS_OLD need at least"),
        ({"audit_keys_old": "x"}, "CALLVAULT_AUDIT_KEY and each key in CALLVAULT_AUDIT_KEYS_OLD need at least"),
    ],
)
def test_a_malformed_key_is_one_line_naming_it(tmp_path: Path, settings: dict[str, str], said: str) -> None:
    status, output = run_with(tmp_path / "var", **settings)
    assert status == 1 and output.startswith(f"Error: {said}"), output
    assert len(output.strip().splitlines()) == 1, output


def test_a_shared_data_directory_is_refused_before_anything_is_written_into_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)

    status, output = run_with(shared)

    assert (status, output.strip()) == (
        1,
        f"Error: CALLVAULT_DATA_DIR is a shared directory ({shared}); give Callvault its own",
    )
    assert list(shared.iterdir()) == []


def test_an_embedded_store_that_does_not_start_is_one_line_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk cannot be made here without mounting one; a stand-in for weed says what weed says then and exits.
    monkeypatch.setattr(
        embedded.EmbeddedS3,
        "command",
        lambda _self: ["sh", "-c", "echo 'F1207 mini.go:301 no space left on device'; exit 255"],
    )

    status, output = run_with(tmp_path / "var")

    assert status == 1, output
    assert "Error: SeaweedFS exited with 255: F1207 mini.go:301 no space left on device (see " in output, output
    assert "Traceback" not in output

    # A later start that dies without a word is not told the earlier one's reason (weed.log is appended to).
    monkeypatch.setattr(embedded.EmbeddedS3, "command", lambda _self: ["sh", "-c", "exit 3"])
    status, output = run_with(tmp_path / "var")
    assert status == 1 and "Error: SeaweedFS exited with 3; see " in output, output


def test_a_database_a_newer_release_made_is_refused_in_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir)})
    engine = make_engine(settings.database_url)
    data_dir.mkdir()
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    engine.dispose()

    for command in (["db", "upgrade"], ["run", "--workers", "1"]):
        env = {"CALLVAULT_DATA_DIR": str(data_dir), "CALLVAULT_S3_ENDPOINT": ""} | {
            f"CALLVAULT_{name.upper()}": value for name, value in KEYS.items()
        }
        status, output = invoke(command, env)
        said = "Error: the database is at revision 0099_future, which this release does not know"
        assert status == 1 and output.startswith(said), (command, output)


def test_keys_are_checked_before_an_older_database_is_migrated(tmp_path: Path) -> None:
    """Found by an operator's pass: a mistyped retired audit key was refused only after the migrations had run, and
    the release the installation came from could then no longer open its database ("Can't locate revision")."""
    data_dir = tmp_path / "var"
    older = "0044_search_keeps_stop_words"
    environment = {f"CALLVAULT_{name.upper()}": value for name, value in KEYS.items()}
    runtime = Runtime.from_settings(Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir), **environment}))
    schema.upgrade(runtime.engine, older)
    # An event as that release signed it (this one's `record_event` keeps its key in the chain's head, a column of
    # migration 0047): its key is all the check reads.
    with runtime.engine.begin() as connection:
        connection.execute(SIGNED_EVENT, {"key": key_id(KEYS["audit_key"]), "zero": "0" * 64, "hash": "1" * 64})

    status, output = run_with(data_dir, **{**KEYS, "audit_key": "another audit key, long enough to be one"})

    assert status == 1 and "CALLVAULT_AUDIT_KEY" in output, output
    assert schema.current_revisions(runtime.engine) == {older}
    runtime.engine.dispose()
