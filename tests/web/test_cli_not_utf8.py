"""Bytes that are not UTF-8 in an argument (a Latin-1 terminal, a script) or in a password on standard input reach
the command as lone surrogates, which no database takes: each was a UnicodeEncodeError traceback deep in the
command. They are usage errors saying which, before the command runs."""

from __future__ import annotations

import io
import sys

import pytest
from click import UsageError
from click.testing import CliRunner

from web import cli, cli_support

NOT_UTF8 = b"x\xff".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    "args",
    [
        ["users", "disable", NOT_UTF8],
        ["tokens", "revoke", NOT_UTF8],
        ["tokens", "list", "--user", NOT_UTF8],
        ["users", "create", "ag", "--role", "agent", "--agent-ref", NOT_UTF8],
        ["tokens", "create", "svc", "--scope", "ingest", "--source", NOT_UTF8],
    ],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def started() -> None:
        raise AssertionError("the command ran")

    monkeypatch.setattr(cli_support, "load_runtime", started)

    result = CliRunner().invoke(cli.main, args)

    assert result.exit_code == 2 and "the argument 'x?' is not UTF-8 text" in result.output, result.output


@pytest.mark.parametrize(
    "stdin",
    [io.StringIO(NOT_UTF8 + "-password-long-enough\n"), io.TextIOWrapper(io.BytesIO(b"p\xffassword-long-enough\n"))],
    ids=["surrogates", "strict"],
)
def test_a_password_that_is_not_utf8_is_a_usage_error(stdin: io.TextIOBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", stdin)

    with pytest.raises(UsageError, match="the password on standard input is not UTF-8 text"):
        cli_support.read_password()
