"""The `callvault` command: a thin shell over the core, like the views."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import click
from sqlalchemy.orm import Session

from jobs import retention as retention_job
from recordings_service import accounts, audit, audit_anchors, mfa, schema, tokens, transcript_text
from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.db import make_engine, utcnow
from recordings_service.errors import DomainError
from recordings_service.evaluations.default_form import seed_default_form
from recordings_service.logs import configure_logging
from recordings_service.permissions import TOKEN_SCOPES
from recordings_service.runtime import Runtime
from web import supervisor
from web.ui.auth import enrolment_url

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
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read a password from standard input (for your own account); otherwise the holder chooses it at the link.",
)
def users_create(username: str, role: str, display_name: str, institute_id: str | None, password_stdin: bool) -> None:
    """Create an account; for a person, print the one-time enrolment link (24 h) for its holder."""
    if role == "research_partner" and not institute_id:
        raise click.UsageError("a research_partner account needs --institute INSTITUTE_ID")
    if institute_id and role != "research_partner":
        raise click.UsageError("--institute is only for research_partner accounts")
    password = read_password(True) if password_stdin and role != "service" else None
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
        link = None if user.role == "service" else _enrolment_link(runtime, session, user_id=user.id)
        session.commit()
        click.echo(f"created {user.username} ({user.role})", err=link is not None)
        if link is not None:
            click.echo(link)


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
def users_reset_password(username: str) -> None:
    """Make the password unusable and end the account's sessions; print the holder's link to set a new one."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        accounts.reset_password(session, actor=CLI_ACTOR, user_id=user.id)
        link = _enrolment_link(runtime, session, user_id=user.id)
        session.commit()
        click.echo(f"password of {user.username} reset; its holder sets a new one at:", err=True)
        click.echo(link)


@users.command("reset-mfa")
@click.argument("username")
def users_reset_mfa(username: str) -> None:
    """Remove the second factor and end the account's sessions; print the holder's link to enrol again."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        mfa.reset_mfa(session, actor=CLI_ACTOR, user_id=user.id)
        link = _enrolment_link(runtime, session, user_id=user.id)
        session.commit()
        click.echo(f"second factor of {user.username} reset; its holder enrols again at:", err=True)
        click.echo(link)


@users.command("enrolment-link")
@click.argument("username")
def users_enrolment_link(username: str) -> None:
    """Print a new one-time enrolment link (24 h) for the account's holder; an earlier link stops working."""
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        link = _enrolment_link(runtime, session, user_id=user.id)
        session.commit()
        click.echo(link)


def _enrolment_link(runtime: Runtime, session: Session, *, user_id: str) -> str:
    token = mfa.issue_enrolment_link(session, runtime.envelope, actor=CLI_ACTOR, user_id=user_id)
    return enrolment_url(runtime.settings.public_url, token)


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
    help="Lifetime in days (default: 365 for ingest, 30 for compliance and research (also their most), else 90).",
)
@click.option("--source", default=None, help="Ingest tokens (required): the recording source the token ingests for.")
def tokens_create(username: str, scope: str, days: int | None, source: str | None) -> None:
    """Create a token and print it (only it, on standard output, once: it is not stored)."""
    if scope == "ingest" and source is None:
        raise click.UsageError("an ingest token needs --source: the one source (telephony system) it ingests for")
    runtime = load_runtime()
    with runtime.sessions() as session, domain_errors():
        user = accounts.user_by_username(session, username)
        token, plain = tokens.create_token(
            session,
            actor=CLI_ACTOR,
            user=user,
            scope=scope,
            lifetime=timedelta(days=days) if days else None,
            source=source,
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
    """Check the hash chain and the anchors in the store; exit 1 naming each break; when intact, anchor the head."""
    runtime = load_runtime()
    with runtime.sessions() as session:
        keys = audit.session_keys(session)
        if keys is None:
            raise click.ClickException("CALLVAULT_AUDIT_KEY is not set: the trail's signatures cannot be checked")
        checked, broken = audit.verify_chain(session, keys=keys)
        anchored = audit_anchors.check_anchors(session, runtime.store)
        breaks = [found for found in (broken, anchored) if found is not None]
        details: dict[str, object] = {"events": checked, "intact": not breaks}
        if breaks:
            details["broken_seq"] = breaks[0].seq
        audit.record_event(session, actor=CLI_ACTOR, action="audit.verified", details=details)
        session.commit()
        anchor = None
        if not breaks:
            retention_days = runtime.settings.audit_anchor_retention_days
            anchor = audit_anchors.anchor_head(session, runtime.store, retention_days=retention_days, now=utcnow())
    for found in breaks:
        click.echo(f"BROKEN at event {found.seq}: {found.reason}", err=True)
    if breaks:
        sys.exit(1)
    click.echo(f"intact ({checked} events)")
    if anchor is not None:
        click.echo(f"anchored event {anchor.count} at {anchor.key}")


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


@main.group("transcripts")
def transcripts_group() -> None:
    """Transcripts at rest."""


@transcripts_group.command("encrypt")
@click.option("--batch", type=click.IntRange(min=1), default=100, show_default=True, help="transcripts per commit")
def transcripts_encrypt(batch: int) -> None:
    """Seal the transcripts still kept in clear (stored before sealing) under their recordings' data keys."""
    runtime = load_runtime()
    sealed = 0
    while True:
        with runtime.sessions() as session, domain_errors():
            done = transcript_text.seal_plaintext_transcripts(session, limit=batch)
            session.commit()
        if not done:
            break
        sealed += done
    click.echo(f"sealed transcripts={sealed}")


@main.command("run")
@click.option("--workers", default=supervisor.WEB_WORKERS, show_default=True, help="gunicorn worker processes")
@click.option(
    "--threads", default=supervisor.WEB_THREADS, show_default=True, help="request threads per worker (gthread)"
)
def run(workers: int, threads: int) -> None:
    """Run everything on one machine: embedded S3 (unless CALLVAULT_S3_ENDPOINT is set), web and jobs."""
    supervisor.run_all(workers=workers, threads=threads, actor=CLI_ACTOR)
