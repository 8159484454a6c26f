"""`callvault redaction`: redact the stored transcripts, and what was written for trainers, again with this
release's detectors."""

from __future__ import annotations

import click

from jobs.redaction import refresh_redactions
from web import cli_support
from web.cli_support import CLI_ACTOR


@click.group("redaction")
def redaction_group() -> None:
    """Redaction of the stored transcripts."""


@redaction_group.command("refresh")
@click.option("--dry-run", is_flag=True, help="Count what redacting again would change; change nothing.")
def redaction_refresh(dry_run: bool) -> None:
    """Redact every stored transcript again (after an upgrade, or a new CALLVAULT_CUSTOMER_NUMBER_PATTERN) and
    rewrite each redacted twin that changes; clips of those calls must then be cut again. Nominations' notes,
    clips' titles, tags and notes, sets' titles and descriptions and exports' titles are redacted again too. A research
    package holding a changed call is built again unless its institute downloaded it (then named on its trail)."""
    runtime = cli_support.load_runtime()

    def progress(what: str, checked: int, changed: int) -> None:
        click.echo(f"{what}: checked {checked}, changed {changed}", err=True)

    report = refresh_redactions(
        runtime,
        actor=CLI_ACTOR,
        customer_number_pattern=runtime.settings.customer_number_rule,
        dry_run=dry_run,
        progress=progress,
    )
    would = "would change" if report.dry_run else "changed"
    research = (
        f" research_rebuilt={report.research_rebuilt} research_held={report.research_held}"
        f" originals_muted={report.originals_muted}"
    )
    click.echo(
        f"checked={report.checked} {would}={report.changed} "
        f"texts_checked={report.texts_checked} texts_{would.replace(' ', '_')}={report.texts_changed}"
        f"{'' if report.dry_run else research}"
    )
