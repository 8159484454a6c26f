"""A web or jobs process started with another `CALLVAULT_AUDIT_KEY` than the trail's (a typo, another machine's
secrets) signed every event it appended with that key, and `audit verify` with the trail's key then found the chain
broken at the first of them, until someone added the stray key to `CALLVAULT_AUDIT_KEYS_OLD`. Without a key it
appended plain hashes after signed ones, a break as well. They now refuse to start unless they hold the key of the
newest event."""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import sessionmaker

from recordings_service import schema
from recordings_service.audit import key_id, record_event
from recordings_service.audit_key_check import ForeignAuditKey
from recordings_service.config import Settings
from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from recordings_service.storage.embedded import ensure_secrets
from tests.callvault_process import BIN, callvault_env
from tests.factories.accounts import SYSTEM
from tests.factories.audit import AUDIT_KEY
from tests.live_server import free_port

OTHER_KEY = secrets.token_urlsafe(32)


def keyed(signed: Runtime, connection: Connection, *, key: str, old: str = "") -> Runtime:
    # Sessions of its own: a runtime sets its keys on its sessionmaker, which `signed` would otherwise share.
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    return replace(signed, settings=replace(signed.settings, audit_key=key, audit_keys_old=old), sessions=sessions)


def test_only_a_process_holding_the_newest_events_key_may_sign_on(signed: Runtime, connection: Connection) -> None:
    with signed.sessions() as session:
        record_event(session, actor=SYSTEM, action="recording.viewed", object_type="recording", object_id="r1")
        session.commit()

    signed.check_keys()
    keyed(signed, connection, key=OTHER_KEY, old=AUDIT_KEY).check_keys()  # a rotation: the old key retired

    with pytest.raises(ForeignAuditKey) as other:
        keyed(signed, connection, key=OTHER_KEY).check_keys()
    assert key_id(AUDIT_KEY) in str(other.value) and "CALLVAULT_AUDIT_KEYS_OLD" in str(other.value)
    assert AUDIT_KEY not in str(other.value) and OTHER_KEY not in str(other.value)
    with pytest.raises(ForeignAuditKey, match="CALLVAULT_AUDIT_KEY is not set"):
        keyed(signed, connection, key="").check_keys()


def signs(runtime: Runtime, object_id: str) -> None:
    with runtime.sessions() as session:
        record_event(session, actor=SYSTEM, action="recording.viewed", object_type="recording", object_id=object_id)
        session.commit()


def test_a_process_that_dropped_a_retired_key_the_trail_was_signed_with_may_not_start(
    signed: Runtime, connection: Connection
) -> None:
    """Found by an operator's pass: only the newest event's key was checked, so after a rotation a process without
    the retired key in CALLVAULT_AUDIT_KEYS_OLD started, and `audit verify` found the chain broken at the first event
    that key had signed (a break that reads as tampering)."""
    rotated = keyed(signed, connection, key=OTHER_KEY, old=AUDIT_KEY)
    signs(rotated, "r1")
    signs(signed, "r2")  # the first key signs again after the other's events (a rotation rolled back, say)
    signs(rotated, "r3")
    rotated.check_keys()

    with pytest.raises(ForeignAuditKey) as dropped:
        keyed(signed, connection, key=OTHER_KEY).check_keys()

    said = str(dropped.value)
    assert f"signed with audit key {key_id(AUDIT_KEY)}," in said and "CALLVAULT_AUDIT_KEYS_OLD" in said, said
    assert AUDIT_KEY not in said and OTHER_KEY not in said


def test_a_key_staged_for_a_rotation_that_signed_nothing_is_not_required(
    signed: Runtime, connection: Connection
) -> None:
    """A review: keys were registered as a process holding them started, so a process (or a CLI command) started
    with a new key staged, the rotation then rolled back, left every process holding the trail's own key refused,
    "signed with" a key that had signed nothing."""
    signs(signed, "r1")
    keyed(signed, connection, key=OTHER_KEY, old=AUDIT_KEY).check_keys()  # staged: started, signed nothing

    signed.check_keys()


@pytest.fixture
def signed_data_dir(tmp_path: Path) -> Path:
    """A data directory as `make run` leaves it: generated secrets, a migrated SQLite trail signed with its key."""
    data_dir = tmp_path / "var"
    ensure_secrets(data_dir)
    runtime = Runtime.from_settings(Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir)}))
    schema.upgrade(runtime.engine)
    with runtime.sessions() as session:
        record_event(session, actor=SYSTEM, action="user.created", object_type="user", object_id="u1")
        session.commit()
    runtime.engine.dispose()
    return data_dir


def trail(data_dir: Path) -> list[str | None]:
    runtime = Runtime.from_settings(Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir)}))
    with runtime.sessions() as session:
        keys = list(session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.seq)))
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == len(keys)
    runtime.engine.dispose()
    return keys


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(BIN / "callvault"), "run", "--workers", "1"], id="callvault-run"),
        pytest.param([sys.executable, "-m", "jobs"], id="jobs"),
        pytest.param([sys.executable, "-c", "import web.wsgi"], id="web"),
    ],
)
def test_a_process_with_another_key_does_not_start(signed_data_dir: Path, command: list[str]) -> None:
    before = trail(signed_data_dir)
    env = callvault_env(signed_data_dir, free_port(), free_port(), audit_key=OTHER_KEY)

    started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    said = started.stdout + started.stderr
    assert started.returncode != 0 and f"signed with audit key {before[-1]}" in said, said
    assert "starting SeaweedFS" not in said  # `callvault run` refuses before it starts anything
    assert trail(signed_data_dir) == before
