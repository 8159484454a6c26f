"""The CLI as an operator runs it, on a data directory of its own (SQLite), in fresh processes:

- a command refuses to run holding another audit key than the trail's, or none, as `run` does. Found by exploratory
  testing: `users create` with a mistyped CALLVAULT_AUDIT_KEY signed its events with it, and `callvault run` then
  refused to start on that trail; with the key left empty it wrote unsigned events after signed ones, and `audit
  verify` found the trail broken there, for good;
- `--password-stdin` on a terminal asks at a hidden prompt: read as a line, the password was echoed as typed;
- a command refused for a missing key leaves no data directory behind (an empty database file in it made a later
  `callvault restore` refuse the directory as "not empty");
- a token whose printing fails (standard output a full disk) is not made: it was committed first, and lived a year
  with nobody holding it; a backup into a path under a file is one line, not a traceback."""

from __future__ import annotations

import os
import pty
import secrets
import select
import subprocess
import time
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select as sql_select

from recordings_service.db import make_engine
from recordings_service.models import AuditEvent
from recordings_service.storage.encryption import generate_master_key
from tests.callvault_process import BIN

PASSWORD = "Ruusu-Kuusi-" + secrets.token_hex(4)


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "callvault"), *args], check=False, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def operator_env(data_dir: Path, **settings: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("CALLVAULT_")}
    return base | {"CALLVAULT_DATA_DIR": str(data_dir)} | {f"CALLVAULT_{k.upper()}": v for k, v in settings.items()}


def events(data_dir: Path) -> int:
    engine = make_engine(f"sqlite:///{data_dir / 'callvault.db'}")
    with engine.connect() as connection:
        count = connection.scalar(sql_select(func.count()).select_from(AuditEvent)) or 0
    engine.dispose()
    return count


def test_a_command_holding_another_audit_key_or_none_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    trail_key, master_key = secrets.token_urlsafe(32), generate_master_key()
    env = operator_env(data_dir, master_key=master_key, audit_key=trail_key)
    assert cli(env, "db", "upgrade").returncode == 0
    created = cli(env, "users", "create", "aino", "--role", "trainer")
    assert created.returncode == 0, created.stderr
    written = events(data_dir)

    for wrong in (secrets.token_urlsafe(32), ""):
        refused = cli(env | {"CALLVAULT_AUDIT_KEY": wrong}, "users", "create", "eino", "--role", "trainer")

        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert "CALLVAULT_AUDIT_KEY" in refused.stderr and trail_key not in refused.stderr + refused.stdout
        assert events(data_dir) == written
    assert cli(env, "users", "create", "eino", "--role", "trainer").returncode == 0  # with the trail's key


def test_a_password_typed_on_a_terminal_is_not_shown(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = operator_env(data_dir, master_key=generate_master_key(), audit_key=secrets.token_urlsafe(32))
    assert cli(env, "db", "upgrade").returncode == 0
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "callvault"), "users", "create", "admin2", "--role", "admin", "--password-stdin"],
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    answered = 0
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if select.select([main], [], [], 0.5)[0]:
            try:
                shown += os.read(main, 4096)
            except OSError:
                break
        prompts = shown.count(b"Password: ") + shown.count(b"Repeat for confirmation: ")
        if prompts > answered:
            os.write(main, PASSWORD.encode() + b"\n")
            answered += 1
    process.wait(timeout=30)
    os.close(main)

    assert answered == 2, shown  # asked, and asked again to confirm
    assert process.returncode == 0, shown
    assert PASSWORD.encode() not in shown


def test_a_command_refused_for_a_missing_key_leaves_no_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    refused = cli(operator_env(data_dir), "users", "list")

    assert refused.returncode == 1 and "CALLVAULT_MASTER_KEY is not set" in refused.stderr
    assert not data_dir.exists()


def test_a_token_that_cannot_be_printed_is_not_made(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = operator_env(data_dir, master_key=generate_master_key(), audit_key=secrets.token_urlsafe(32))
    assert cli(env, "db", "upgrade").returncode == 0
    assert cli(env, "users", "create", "pbx", "--role", "service").returncode == 0
    with open("/dev/full", "w") as full:
        failed = subprocess.run(
            [str(BIN / "callvault"), "tokens", "create", "pbx", "--scope", "ingest", "--source", "pbx"],
            check=False,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )

    assert failed.returncode == 1 and "No space left on device" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    listed = cli(env, "tokens", "list")
    assert listed.returncode == 0 and listed.stdout.count("\n") == 1, listed.stdout  # the header alone
    (tmp_path / "afile").write_text("")
    under_a_file = cli(env, "backup", str(tmp_path / "afile" / "backup"))
    assert under_a_file.returncode == 1 and "Traceback" not in under_a_file.stderr, under_a_file.stderr
    assert under_a_file.stderr.count("\n") == 1 and "afile" in under_a_file.stderr
