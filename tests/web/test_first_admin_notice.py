"""The notice `callvault run` prints when it creates the first admin: the username stands beside the link."""

from __future__ import annotations

import re

import pytest

from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM
from web import supervisor


@pytest.mark.parametrize("given_password", [True, False])
def test_the_first_admin_notice_names_the_username_beside_the_link(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given_password: bool
) -> None:
    if given_password:
        monkeypatch.setenv("CALLVAULT_ADMIN_PASSWORD", "a-password-the-operator-chose")
    else:
        monkeypatch.delenv("CALLVAULT_ADMIN_PASSWORD", raising=False)
    supervisor._ensure_admin(runtime, actor=SYSTEM)
    printed = capsys.readouterr().out
    assert "First admin account created: username 'admin'" in printed
    link_line = next(line for line in printed.splitlines() if "/enrol/" in line)
    assert re.search(r"http://\S+/enrol/[\w-]{43}\b.*'admin'", link_line)
    # A password the operator chose is never echoed back.
    assert "a-password-the-operator-chose" not in printed

    supervisor._ensure_admin(runtime, actor=SYSTEM)
    assert capsys.readouterr().out == ""  # an admin exists: nothing is created or printed again
