"""`callvault inbox`: what the drop-folder inbox holds, for its operator."""

from __future__ import annotations

import os

import click

from recordings_service.calls.inbox import InboxUnavailable, inbox_dir
from recordings_service.calls.inbox_status import inbox_status
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.logs import configure_logging
from web.cli_support import echo_table


@click.group("inbox")
def inbox_group() -> None:
    """The drop-folder inbox."""


@inbox_group.command("status")
def inbox_status_command() -> None:
    """Count the drops ready and waiting, the items the next run files under failed/, the imported calls' files and
    receipts under done/, and failed/'s items by reason (with how many had their files removed, and how many the next
    run removes as filed longer ago than their keeping time); no file named."""
    settings = Settings.from_env()  # the inbox only: neither the database nor the keys
    configure_logging(settings)
    root = inbox_dir(settings)
    if not os.path.lexists(root):  # never made here: a wrong data directory would read as an inbox with nothing in it
        raise click.ClickException(
            f"no inbox at {root}: nothing has been dropped there yet, or CALLVAULT_INBOX_DIR (CALLVAULT_DATA_DIR's "
            "inbox/ when unset) names another folder than the jobs process's"
        )
    try:
        status = inbox_status(settings, now=utcnow())
    except InboxUnavailable as exc:
        raise click.ClickException(f"inbox {root} not listed: {exc} (CALLVAULT_INBOX_DIR)") from None
    click.echo(
        f"ready={status.ready} waiting={status.waiting} to_fail={status.to_fail} done={status.done_files} "
        f"receipts={status.receipts} failed={status.failed_items}"
    )
    echo_table(
        ("reason", "items", "files_removed", "due"),
        ((reason, counts.items, counts.files_removed, counts.due) for reason, counts in status.failed.items()),
    )
