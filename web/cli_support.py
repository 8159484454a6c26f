"""What every `callvault` command shares: its actor, one-line errors, tables and the runtime."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import click
from sqlalchemy.exc import ArgumentError, DBAPIError

from recordings_service.audit import Actor, record_refusal
from recordings_service.config import Settings, SettingsError
from recordings_service.errors import DomainError
from recordings_service.logs import configure_logging
from recordings_service.runtime import Runtime
from recordings_service.storage.embedded import StoreNotStarted

CLI_ACTOR = Actor(id=None, name="cli", role="admin")
# A count the database takes as a LIMIT: 2**63 and more was an OverflowError traceback on SQLite.
COUNT = click.IntRange(min=1, max=2**31 - 1)


class CallvaultGroup(click.Group):
    """The `callvault` command group: any command's refused use case (`DomainError`), a malformed setting, a
    database that cannot be used and a file or folder that cannot be (a full disk, a folder that is a file) are
    reported as a one-line error with exit status 1, as click reports bad usage, never as a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Bytes that are not UTF-8 (a Latin-1 terminal, a script) reach the command as lone surrogates, which no
        # database takes: a UnicodeEncodeError traceback deep in the command.
        for arg in args:
            refuse_undecodable(arg, what=f"the argument {arg.encode('utf-8', 'replace').decode()!r}")
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise  # click's own handling: a reader that went away (`| head -1`) ends the command quietly
        except OSError as exc:  # a full disk, a folder that is a file, a path that is not there
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}") from None
        except DomainError as exc:
            _keep_refusal(exc)
            field = exc.field
            raise click.ClickException(f"{field}: {exc.message}" if field else exc.message + _where(exc)) from None
        except (SettingsError, StoreNotStarted) as exc:
            raise click.ClickException(str(exc)) from None
        except ArgumentError as exc:  # a database URL SQLAlchemy cannot read
            raise click.ClickException(f"CALLVAULT_DATABASE_URL: {exc}") from None
        except DBAPIError as exc:
            raise click.ClickException(_database_unusable(exc)) from None


def _keep_refusal(exc: DomainError) -> None:
    """Write a refused use case's audit event, as the web does (`web.errors.keep_refusal`), in a transaction of its
    own: the command's work was rolled back with its session. Every refusal is on the trail, an operator's too; one
    that cannot be written (the database gone meanwhile) leaves the refusal itself to be said."""
    if exc.refusal is None:
        return
    try:
        # The command's keys were checked as it began; a refusal is signed with the key it ran with.
        with load_runtime(checking_keys=False).sessions() as session:
            record_refusal(session, exc.refusal)
            session.commit()
    except DBAPIError:
        click.echo("the refusal could not be written to the audit trail: the database cannot be used", err=True)


def _database_unusable(exc: DBAPIError) -> str:
    """The driver's own reason, first line only (the statement, with its parameters hidden, is no help here)."""
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    # SQLite's "no such table", PostgreSQL's undefined_table: a database the schema was never put in.
    missing = "no such table" in reason or getattr(exc.orig, "sqlstate", None) == "42P01"
    return f"the database cannot be used: {reason}" + (" (run `callvault db upgrade` first)" if missing else "")


def _where(exc: DomainError) -> str:
    """Where an unreachable dependency was looked for, for the operator (the API never says: it would tell anyone)."""
    endpoint = getattr(exc.__cause__, "kwargs", {}).get("endpoint_url")
    if not isinstance(endpoint, str):
        return ""
    parts = urlsplit(endpoint)
    # The commands after a restore (audit verify, integrity check) or a backup need the store running: the
    # embedded one starts with `callvault run`, which the hint named nowhere.
    hint = (
        "is the store up, and CALLVAULT_S3_ENDPOINT its address?"
        if Settings.external_store()
        else "the embedded store runs with `callvault run`: start it first; or set CALLVAULT_S3_ENDPOINT, "
        "or CALLVAULT_S3_PORT for the embedded store"
    )
    # The host and port only: an endpoint may carry credentials (user:password@host), which a terminal or a log keeps.
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f" at {parts.scheme}://{host}{port} ({hint})"


def echo_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Tab-separated lines under a header; a missing value or time is `-`, times are UTC to the second."""
    click.echo("\t".join(header))
    for row in rows:
        click.echo("\t".join(cell(value) for value in row))


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def hand_over(secret: str) -> None:
    """Print a secret shown once (a token, an enrolment link) before the caller commits it: standard output that
    cannot be written (a full disk, a closed pipe) then fails the command with nothing made, where a token committed
    first lived on, for a year, with nobody holding it."""
    click.echo(secret)
    sys.stdout.flush()


def refuse_undecodable(text: str, *, what: str) -> None:
    """A usage error where `text` holds bytes that were not UTF-8 (read as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise click.UsageError(f"{what} is not UTF-8 text") from None


def read_password() -> str:
    """The password given on standard input: a line piped in, or, on a terminal, typed at a prompt that neither
    shows it nor keeps it in the scrollback (read as a line, it was echoed as typed), and typed twice."""
    if sys.stdin.isatty():
        typed: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return typed
    # The line ending only, CRLF too: a password kept with its "\r" could never be typed at sign-in.
    what = "the password on standard input"
    try:
        password = sys.stdin.readline().rstrip("\r\n")
    except UnicodeDecodeError:  # standard input decoded strictly (a UTF-8 locale), not with surrogates
        raise click.UsageError(f"{what} is not UTF-8 text") from None
    refuse_undecodable(password, what=what)
    return password


def load_runtime(*, checking_keys: bool = True, second_factors: bool = True, master_key: bool = True) -> Runtime:
    """The runtime of the environment's settings. Unless told not to (`audit verify`, which must report a trail
    signed with another key, and writes nothing then), a command refuses to run holding another audit key than the
    trail's, or none, as `run`, the web and the jobs processes do: it would sign its events so that the trail is
    broken there for good, and `run` would refuse to start after it. `second_factors=False`: the command that resets
    a second factor sealed under a master key since lost, which the check of the keyset would refuse;
    `master_key=False`: the commands that report and rewrap what each master key wraps, which name a key the keyset
    lacks themselves."""
    settings = Settings.from_env()
    configure_logging(settings)
    try:
        runtime = Runtime.from_settings(settings)
    except ValueError as exc:  # a missing or malformed setting: say which, not a traceback
        raise click.ClickException(
            f"{exc} (data directory {settings.data_dir}: set CALLVAULT_DATA_DIR to the one `make run` uses)"
        ) from None
    except OSError as exc:  # the data directory a file, or one this user may not write
        raise click.ClickException(f"{exc.strerror or exc}: {exc.filename} (CALLVAULT_DATA_DIR)") from None
    if checking_keys:
        runtime.check_keys(
            second_factors=second_factors, master_key=master_key
        )  # refused: a `SettingsError`, one line (CallvaultGroup)
    return runtime
