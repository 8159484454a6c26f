"""The notice `callvault run` gives when it creates the first admin: on a terminal the username stands beside the
link; elsewhere (a service manager's journal, a log file) the password and link go to a file only we can read."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM, make_user
from web import supervisor

LINK = re.compile(r"http://\S+/enrol/[\w-]{43}\b.*'admin'")


@pytest.mark.parametrize("given_password", [True, False])
def test_on_a_terminal_the_notice_names_the_username_beside_the_link(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given_password: bool
) -> None:
    if given_password:
        monkeypatch.setenv("CALLVAULT_ADMIN_PASSWORD", "a-password-the-operator-chose")
    else:
        monkeypatch.delenv("CALLVAULT_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)  # pytest's capture stands in for the terminal
    supervisor._ensure_admin(runtime, actor=SYSTEM)
    printed = capsys.readouterr().out
    assert "First admin account created: username 'admin'" in printed
    assert LINK.search(next(line for line in printed.splitlines() if "/enrol/" in line))
    # A password the operator chose is never echoed back.
    assert "a-password-the-operator-chose" not in printed

    supervisor._ensure_admin(runtime, actor=SYSTEM)
    assert capsys.readouterr().out == ""  # an admin exists: nothing is created or printed again


def test_elsewhere_the_password_and_link_go_to_a_private_file_not_to_stdout(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: under a service manager stdout is the journal, readable by others, and whoever opened
    the one-time link first (with the generated password beside it) would have enrolled as the admin."""
    monkeypatch.delenv("CALLVAULT_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    supervisor._ensure_admin(runtime, actor=SYSTEM)
    printed = capsys.readouterr().out
    notice = Path(runtime.settings.data_dir / supervisor.FIRST_ADMIN_NOTICE)
    assert "First admin account created: username 'admin'" in printed and str(notice) in printed
    assert "/enrol/" not in printed and "password '" not in printed
    assert stat.S_IMODE(notice.stat().st_mode) == 0o600
    written = notice.read_text()
    assert LINK.search(written) and re.search(r"password '[\w-]{20}' \(shown once\)", written)
    notice.unlink()


def test_with_only_disabled_admins_a_new_admin_is_made_once_under_a_free_name(
    runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a disabled administrator counted as one, so with no active one left nobody could
    administer and `callvault run` offered no admin (and its name "admin" would have been taken anyway)."""
    make_user(session, role=Role.ADMIN, username="admin", active=False)
    make_user(session, role=Role.TRAINER, username="admin2")
    monkeypatch.delenv("CALLVAULT_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    supervisor._ensure_admin(runtime, actor=SYSTEM)
    printed = capsys.readouterr().out
    assert "No active admin account was left; admin account created: username 'admin3'" in printed
    made = accounts.user_by_username(session, "admin3")
    assert (made.role, made.active) == (Role.ADMIN, True)

    supervisor._ensure_admin(runtime, actor=SYSTEM)  # the next start finds the active one
    assert capsys.readouterr().out == ""
    assert [user.username for user in accounts.list_users(session) if user.role == Role.ADMIN] == ["admin", "admin3"]
