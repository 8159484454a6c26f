"""`callvault integrity`: re-hash stored originals and report what is damaged or missing."""

from __future__ import annotations

import sys

import click

from recordings_service.integrity import check_integrity
from web import cli_support
from web.cli_support import CLI_ACTOR


@click.group("integrity")
def integrity_group() -> None:
    """Integrity of the stored originals."""


@integrity_group.command("check")
@click.option("--sample", type=cli_support.COUNT, default=None, help="Check N originals chosen at random.")
def integrity_check(sample: int | None) -> None:
    """Decrypt and re-hash originals (all, or --sample N); name each finding; exit 1 when any is found."""
    runtime = cli_support.load_runtime()

    def progress(checked: int, found: int) -> None:
        click.echo(f"checked {checked}, findings {found}", err=True)

    with runtime.sessions() as session:
        report = check_integrity(
            session, runtime.store, runtime.envelope, actor=CLI_ACTOR, sample=sample, progress=progress
        )
        session.commit()
        run = report.run
        summary = f"checked={run.checked} mismatched={run.mismatched} missing={run.missing}"
    for finding in report.findings:
        click.echo(f"{finding.kind} {finding.recording_id} ({finding.reason})", err=True)
    click.echo(summary)
    if not report.intact:
        sys.exit(1)
