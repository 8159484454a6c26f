"""Running `callvault redaction refresh` as an operator does, against a test's runtime."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from recordings_service.runtime import Runtime
from web import cli, cli_support


def refresh(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, int]:
    """What the command prints, e.g. `checked=3 changed=1 texts_checked=0 texts_changed=0`, as a dict."""
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    result = CliRunner().invoke(cli.main, ["redaction", "refresh", *args])
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().replace("would change=", "would_change=")
    return {name: int(value) for name, value in (pair.split("=") for pair in printed.split())}
