"""The `callvault` command: a thin shell over the core, like the views."""

from __future__ import annotations

import sys

import click

from jobs import retention as retention_job
from recordings_service import audit, audit_anchors, schema, transcript_text
from recordings_service.config import Settings
from recordings_service.db import make_engine, utcnow
from recordings_service.evaluations.default_form import seed_default_form
from recordings_service.logs import configure_logging
from recordings_service.privacy import sweep as sweep_reads
from recordings_service.runtime import make_private, sqlite_file
from web import cli_support, supervisor
from web.cli_accounts import tokens_group, users
from web.cli_backup import backup, replay_ledger, report_replayed, restore
from web.cli_inbox import inbox_group
from web.cli_integrity import integrity_group
from web.cli_keys import keys_group
from web.cli_redaction import redaction_group
from web.cli_support import CLI_ACTOR, CallvaultGroup


@click.group(cls=CallvaultGroup)
def main() -> None:
    """Callvault: call-recording management and quality assurance."""


main.add_command(users)
main.add_command(tokens_group)
main.add_command(integrity_group)
main.add_command(inbox_group)
main.add_command(keys_group)
main.add_command(redaction_group)
main.add_command(backup)
main.add_command(restore)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (needs only the database settings, not the keys)."""
    settings = Settings.from_env()
    configure_logging(settings)
    if sqlite_file(settings.database_url) is not None:
        make_private(settings)  # before SQLite creates the file under the umask
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    click.echo(f"database at {', '.join(sorted(schema.current_revisions(engine)))}")


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain, the calls' links to it and the anchors in the store; exit 1 naming each break; when
    intact, anchor the head."""
    runtime = cli_support.load_runtime(checking_keys=False)
    with runtime.sessions() as session:
        keys = audit.session_keys(session)
        if keys is None:
            raise click.ClickException("CALLVAULT_AUDIT_KEY is not set: the trail's signatures cannot be checked")
        checked, broken = audit.verify_chain(session, keys=keys)
        linked = audit.verify_links(session)
        anchored = audit_anchors.check_anchors(session, runtime.store)
        breaks = [found for found in (broken, linked, anchored) if found is not None]
        details: dict[str, object] = {"events": checked, "intact": not breaks}
        if breaks:
            details["broken_seq"] = breaks[0].seq
        # Holding another key than the trail's, it would sign its own event with a key the right one cannot check:
        # the trail would stay broken at that event for good. It writes nothing then.
        if not any(found.unknown_key for found in breaks):
            audit.record_event(session, actor=CLI_ACTOR, action="audit.verified", details=details)
            session.commit()
        anchor = None
        if not breaks:
            retention_days = runtime.settings.audit_anchor_retention_days
            anchor = audit_anchors.anchor_head(session, runtime.store, retention_days=retention_days, now=utcnow())
    for found in breaks:
        where = "" if found.seq is None else f" at event {found.seq}"
        click.echo(f"BROKEN{where}: {found.reason}", err=True)
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
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
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
@click.option(
    "--batch",
    type=cli_support.COUNT,
    default=retention_job.BATCH,
    show_default=True,
    help="recordings deleted per transaction",
)
def retention_sweep(dry_run: bool, batch: int) -> None:
    """Delete every recording past its retention date, neither on hold nor restricted (`--batch` to a transaction),
    with a receipt; exit 1 when a due recording could not be deleted (`failed`, or overdue in the proof after it)."""
    runtime = cli_support.load_runtime()
    report = retention_job.sweep(
        runtime.sessions, runtime.store, now=utcnow(), batch=batch, actor=CLI_ACTOR, dry_run=dry_run
    )
    verb = "would delete" if dry_run else "deleted"
    if dry_run:
        with runtime.sessions() as session:
            due = sweep_reads.due_calls(session, report.recording_ids)
        for call in due:
            why = "retention" if call.erasure_id is None else f"erasure request={call.erasure_id}"
            click.echo(
                f"recording {call.recording_id} started={cli_support.cell(call.started_at)} "
                f"retain_until={cli_support.cell(call.retain_until)} reason={why}"
            )
        for key in report.orphan_keys:
            click.echo(f"orphan {key}")
    counts = " ".join(f"{kind}={count}" for kind, count in sorted(report.counts.items()))
    click.echo(f"{verb} recordings={len(report.recording_ids)} orphans={len(report.orphan_keys)} {counts}".rstrip())
    if report.receipt is not None:
        click.echo(f"receipt {report.receipt.id} ({report.wall_s:.1f} s)")
        result = retention_job.prove(runtime.sessions, runtime.store, now=utcnow(), actor=CLI_ACTOR, clean=True)
        click.echo(f"overdue={result.overdue} orphans={result.orphans}")
        # A cron job or a runbook reads the status: a sweep that left a due call behind was reported as done.
        if report.counts.get("failed") or result.overdue:
            sys.exit(1)


@retention_group.command("check")
def retention_check() -> None:
    """Print `overdue=N orphans=M`; exit 0 only when both are 0."""
    runtime = cli_support.load_runtime()
    # Recorded, like the daily job's: the compliance dashboard shows the latest result and its time.
    result = retention_job.prove(runtime.sessions, runtime.store, now=utcnow(), actor=CLI_ACTOR, clean=False)
    click.echo(f"overdue={result.overdue} orphans={result.orphans}")
    if not result.clean:
        sys.exit(1)


@main.command("replay-ledger")
def replay_ledger_command() -> None:
    """After a database restored by other means than `callvault restore` (a point-in-time recovery): delete again
    every recording the store's deletion ledger names that the database holds undeleted, and put back the objections,
    legal holds (placed or released) and restrictions (put in force or lifted) its ledger holds. Prints `deletions
    replayed=N held=M objections replayed=K holds placed=P released=R restrictions replayed=Q lifted=L`; exit 1 when a
    legal hold here kept a recording (each named on stderr)."""
    runtime = cli_support.load_runtime()
    replayed = replay_ledger(runtime)
    report_replayed(replayed)
    if replayed.deletions.held:
        sys.exit(1)


@main.group("transcripts")
def transcripts_group() -> None:
    """Transcripts at rest."""


@transcripts_group.command("encrypt")
@click.option("--batch", type=cli_support.COUNT, default=100, show_default=True, help="transcripts per commit")
def transcripts_encrypt(batch: int) -> None:
    """Seal the transcripts still kept in clear (stored before sealing) under their recordings' data keys."""
    runtime = cli_support.load_runtime()
    sealed = 0
    while True:
        with runtime.sessions() as session:
            done = transcript_text.seal_plaintext_transcripts(session, actor=CLI_ACTOR, limit=batch)
            session.commit()
        if not done:
            break
        sealed += done
    click.echo(f"sealed transcripts={sealed}")


@main.command("run")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=supervisor.WEB_WORKERS,
    show_default=True,
    help="gunicorn worker processes",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=supervisor.WEB_THREADS,
    show_default=True,
    help="request threads per worker (gthread)",
)
def run(workers: int, threads: int) -> None:
    """Run everything on one machine: embedded S3 (unless CALLVAULT_S3_ENDPOINT is set), web and jobs."""
    supervisor.run_all(workers=workers, threads=threads, actor=CLI_ACTOR)
