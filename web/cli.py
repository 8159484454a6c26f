"""The `callvault` command: a thin shell over the core, like the views."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import click

from jobs import retention as retention_job
from recordings_service import accounts, audit, schema, tokens
from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.db import make_engine, utcnow
from recordings_service.errors import DomainError
from recordings_service.evaluations.default_form import seed_default_form
from recordings_service.logs import configure_logging
from recordings_service.permissions import TOKEN_SCOPES
from recordings_service.runtime import Runtime
from web import supervisor

CLI_ACTOR = Actor(id=None, name="cli", role="admin")


@contextmanager
def domain_errors() -> Iterator[None]:
    """Report a refused use case as a one-line error and exit status 1, as click does."""
    try:
        yield
    except DomainError as exc:
        field = getattr(exc, "field", None)
        raise click.ClickException(f"{field}: {exc.message}" if field else exc.message) from None


def echo_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Tab-separated lines under a header; a missing value or time is `-`, times are UTC to the second."""
    click.echo("\t".join(header))
    for row in rows:
        click.echo("\t".join(_cell(value) for value in row))


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def load_runtime() -> Runtime:
    settings = Settings.from_env()
    configure_logging(settings)
    try:
        return Runtime.from_settings(settings)
    except ValueError as exc:  # a missing or malformed setting: say which, not a traceback
        raise click.ClickException(
            f"{exc} (data directory {settings.data_dir}: set CALLVAULT_DATA_DIR to the one `make run` uses)"
        ) from None


@click.group()
def main() -> None:
    """Callvault: call-recording management and quality assurance."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (needs only the database settings, not the keys)."""
    settings = Settings.from_env()
    configure_logging(settings)
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    click.echo(f"database at {', '.join(sorted(schema.current_revisions(engine)))}")


@main.group()
def users() -> None:
    """Staff, partner and service accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, compliance, qa_supervisor, trainer, research_partner or service")
@click.option("--display-name", default="")
@click.option("--institute", "institute_id", default=None, help="The institute's id (research_partner only, required).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username: str, role: str, display_name: str, institute_id: str | None, password_stdin: bool) -> None:
    """Create an account (the password is prompted for unless --password-stdin)."""
    if role == "research_partner" and not institute_id:
        raise click.UsageError("a research_partner account needs --institute INSTITUTE_ID")
    if institute_id and role != "research_partner":
        raise click.UsageError("--institute is only for research_partner accounts")
    password = None if role == "service" else read_password(password_stdin)
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.create_user(
            session,
            actor=CLI_ACTOR,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            institute_id=institute_id,
        )
        session.commit()
        click.echo(f"created {user.username} ({user.role})")


@users.command("list")
def users_list() -> None:
    """List the accounts: username, role, active, institute and last login (tab-separated, with a header)."""
    runtime = load_runtime()
    with runtime.sessions() as session:
        rows = [
            (user.username, user.role, "yes" if user.active else "no", user.institute_id, user.last_login_at)
            for user in accounts.list_users(session)
        ]
    echo_table(("username", "role", "active", "institute", "last_login"), rows)


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account; its login sessions end and its API tokens stop working."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        accounts.disable_user(session, actor=CLI_ACTOR, user_id=user.id)
        session.commit()
        click.echo(f"disabled {user.username}")


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable a disabled account (and lift a lockout)."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        accounts.enable_user(session, actor=CLI_ACTOR, user_id=user.id)
        session.commit()
        click.echo(f"enabled {user.username}")


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def users_reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password; the account's sessions end and any lockout is lifted."""
    password = read_password(password_stdin)
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        accounts.reset_password(session, actor=CLI_ACTOR, user_id=user.id, password=password)
        session.commit()
        click.echo(f"password of {user.username} reset", err=True)


@main.group("tokens")
def tokens_group() -> None:
    """API tokens for machines (telephony ingest) and scripts."""


@tokens_group.command("create")
@click.argument("username")
@click.option("--scope", required=True, type=click.Choice(sorted(TOKEN_SCOPES)))
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Lifetime in days (default: no expiry; compliance tokens: 30, and at most 30).",
)
def tokens_create(username: str, scope: str, days: int | None) -> None:
    """Create a token and print it (only it, on standard output, once: it is not stored)."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        token, plain = tokens.create_token(
            session, actor=CLI_ACTOR, user=user, scope=scope, lifetime=timedelta(days=days) if days else None
        )
        session.commit()
        click.echo(f"token {token.id} for {user.username} ({scope})", err=True)
        click.echo(plain)


@tokens_group.command("list")
@click.option("--user", "username", default=None, help="Only this account's tokens.")
def tokens_list(username: str | None) -> None:
    """List API tokens, newest first, revoked and expired too (never the token itself, which is not stored)."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user_id = accounts.user_by_username(session, username).id if username else None
        rows = [
            (
                token.id,
                token.user.username,
                token.scope,
                token.created_at,
                token.expires_at,
                token.last_used_at,
                token.revoked_at,
            )
            for token in tokens.list_tokens(session, user_id=user_id)
        ]
    echo_table(("id", "user", "scope", "created", "expires", "last_used", "revoked"), rows)


@tokens_group.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (as the admin pages list it)."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        tokens.revoke_token(session, actor=CLI_ACTOR, token_id=token_id)
        session.commit()
        click.echo(f"revoked {token_id}")


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; exit 1 naming the first broken event."""
    runtime = load_runtime()
    with runtime.sessions() as session:
        checked, broken = audit.verify_chain(session)
        details: dict[str, object] = {"events": checked, "intact": broken is None}
        if broken is not None:
            details["broken_seq"] = broken.seq
        audit.record_event(session, actor=CLI_ACTOR, action="audit.verified", details=details)
        session.commit()
    if broken is not None:
        click.echo(f"BROKEN at event {broken.seq}: {broken.reason}", err=True)
        sys.exit(1)
    click.echo(f"intact ({checked} events)")


@main.group("forms")
def forms_group() -> None:
    """Evaluation forms."""


@forms_group.command("seed-default")
def forms_seed_default() -> None:
    """Create and publish the default customer-service evaluation form, unless it exists."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        form = seed_default_form(session, actor=CLI_ACTOR)
        session.commit()
    if form is None:
        click.echo("the default form exists already; nothing changed")
    else:
        click.echo(f"published {form.name!r} version {form.version} ({len(form.questions)} questions)")


@main.group("retention")
def retention_group() -> None:
    """Retention: delete what is past its keep period, and prove nothing overdue or orphaned remains."""


@retention_group.command("sweep")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--batch", type=click.IntRange(min=1), default=retention_job.BATCH, show_default=True)
def retention_sweep(dry_run: bool, batch: int) -> None:
    """Delete every recording past its retention date and not on hold (one transaction each), with a receipt."""
    runtime = load_runtime()
    report = retention_job.sweep(
        runtime.sessions, runtime.store, now=utcnow(), batch=batch, actor=CLI_ACTOR, dry_run=dry_run
    )
    verb = "would delete" if dry_run else "deleted"
    if dry_run:
        for recording_id in report.recording_ids:
            click.echo(f"recording {recording_id}")
        for key in report.orphan_keys:
            click.echo(f"orphan {key}")
    counts = " ".join(f"{kind}={count}" for kind, count in sorted(report.counts.items()))
    click.echo(f"{verb} recordings={len(report.recording_ids)} orphans={len(report.orphan_keys)} {counts}".rstrip())
    if report.receipt is not None:
        click.echo(f"receipt {report.receipt.id} ({report.wall_s:.1f} s)")
        result = retention_job.prove(runtime.sessions, runtime.store, now=utcnow(), actor=CLI_ACTOR, clean=True)
        click.echo(f"overdue={result.overdue} orphans={result.orphans}")


@retention_group.command("check")
def retention_check() -> None:
    """Print `overdue=N orphans=M`; exit 0 only when both are 0."""
    runtime = load_runtime()
    # Recorded, like the daily job's: the compliance dashboard shows the latest result and its time.
    result = retention_job.prove(runtime.sessions, runtime.store, now=utcnow(), actor=CLI_ACTOR, clean=False)
    click.echo(f"overdue={result.overdue} orphans={result.orphans}")
    if not result.clean:
        sys.exit(1)


@main.command("run")
@click.option("--workers", default=supervisor.WEB_WORKERS, show_default=True, help="gunicorn worker processes")
@click.option(
    "--threads", default=supervisor.WEB_THREADS, show_default=True, help="request threads per worker (gthread)"
)
def run(workers: int, threads: int) -> None:
    """Run everything on one machine: embedded S3 (unless CALLVAULT_S3_ENDPOINT is set), web and jobs."""
    supervisor.run_all(workers=workers, threads=threads, actor=CLI_ACTOR)
