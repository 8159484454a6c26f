"""`callvault keys`: what each master key still wraps, and wrapping it under the primary key so an old one can go."""

from __future__ import annotations

import sys
from collections import Counter

import click

from recordings_service.backup.key_rotation import KINDS, Rewrapped, key_status, read_batch, rewrap, rewrap_hold_reasons
from web import cli_support
from web.cli_support import CLI_ACTOR, echo_table, yes_no


@click.group("keys")
def keys_group() -> None:
    """The master keyset (CALLVAULT_MASTER_KEY)."""


@keys_group.command("status")
def keys_status() -> None:
    """List the keyset's key ids and what the stored data still has wrapped under each master key id (tab-separated,
    with a header); the last line names the held keys other than the primary that nothing needs any more."""
    # Without the check of the master keys: a key the keyset lacks is what this command is run to see.
    runtime = cli_support.load_runtime(master_key=False)
    with runtime.sessions() as session:
        status = key_status(session, runtime.store, runtime.envelope)
    needed = {sealed.key_id for sealed in status.sealed}
    rows = [
        (
            sealed.key_id,
            yes_no(sealed.key_id == status.primary),
            yes_no(sealed.key_id in status.held),
            sealed.what,
            sealed.count,
        )
        for sealed in sorted(status.sealed, key=lambda sealed: (sealed.key_id, sealed.what))
    ]
    rows += [(key_id, yes_no(key_id == status.primary), "yes", None, 0) for key_id in sorted(status.held - needed)]
    echo_table(("key_id", "primary", "in_keyset", "what", "count"), sorted(rows, key=lambda row: row[0]))
    removable = ", ".join(map(str, status.removable)) or "none"
    click.echo(f"removable from the keyset: {removable}")


@keys_group.command("rewrap")
@click.option("--batch", type=cli_support.COUNT, default=100, show_default=True, help="rows per commit")
@click.option("--dry-run", is_flag=True, help="Unwrap what would be wrapped again, and count it; write nothing.")
def keys_rewrap(batch: int, dry_run: bool) -> None:
    """Wrap again under the primary key every data key and sealed secret another key of the keyset wraps (the stored
    objects stay as they are), committing each batch; run it again to go on. Prints `rewrapped=N unopened=M`, each
    kind and old key id on stdout; exit 1 when a key the keyset lacks (named) left anything as it was."""
    runtime = cli_support.load_runtime(master_key=False)
    total = Rewrapped()
    for kind in KINDS:
        after: str | None = None
        while True:
            with runtime.sessions() as session:
                read = read_batch(session, runtime.envelope, kind.what, after=after, limit=batch)
                done = rewrap(session, runtime.envelope, read.rows, actor=CLI_ACTOR, dry_run=dry_run)
                session.commit()
            if read.after is None:
                break
            after = read.after
            total.add(done)
            click.echo(f"rewrapped {sum(total.rewrapped.values())}", err=True)
    with runtime.sessions() as session:
        total.add(rewrap_hold_reasons(session, runtime.store, runtime.envelope, actor=CLI_ACTOR, dry_run=dry_run))
        session.commit()
    for (what, key_id), count in sorted(total.rewrapped.items(), key=str):
        click.echo(f"{'would rewrap' if dry_run else 'rewrapped'}\t{what}\t{_key(key_id)}\t{count}")
    lacking = Counter[int | None]()
    for (what, key_id), count in sorted(total.unopened.items(), key=str):
        click.echo(f"unopened\t{what}\t{_key(key_id)}\t{count}")
        lacking[key_id] += count
    click.echo(
        f"rewrapped={sum(total.rewrapped.values())} unopened={sum(total.unopened.values())} changed={total.changed}"
        + (" (dry run: nothing written)" if dry_run else "")
    )
    if lacking:
        named = ", ".join(
            f"key id {_key(key_id)} ({count}{'' if key_id in runtime.envelope.key_ids else ', not in the keyset'})"
            for key_id, count in sorted(lacking.items(), key=str)
        )
        click.echo(f"left as they were, not unwrapped: {named}", err=True)
        sys.exit(1)


def _key(key_id: int | None) -> str:
    return "-" if key_id is None else str(key_id)
