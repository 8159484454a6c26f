"""Counts a command takes are refused out of range before it starts, naming the option. `callvault run --workers 0`
said it was running while gunicorn started no worker (the web never answered); `--workers -1` failed only after the
store had started, saying "Value must be positive" of nothing named; a `--batch` or `--sample` of 2**63 was an
OverflowError traceback from SQLite."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from web import cli, cli_support

HUGE = str(2**63)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--workers", "0"],
        ["run", "--workers", "-1"],
        ["run", "--threads", "0"],
        ["retention", "sweep", "--batch", HUGE],
        ["transcripts", "encrypt", "--batch", HUGE],
        ["integrity", "check", "--sample", HUGE],
    ],
)
def test_a_count_out_of_range_is_refused_naming_the_option(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def started(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the command ran")

    monkeypatch.setattr(cli_support, "load_runtime", started)
    monkeypatch.setattr(cli.supervisor, "run_all", started)

    result = CliRunner().invoke(cli.main, args)

    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{args[-2]}'" in result.output
