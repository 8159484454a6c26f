"""`callvault backup DIR` and `callvault restore DIR`: the database, key material and stored objects; and the replay of
the store's ledger after a restore, which `callvault replay-ledger` runs too."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from recordings_service.audit import record_event
from recordings_service.backup import archive, portable
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.logs import configure_logging
from recordings_service.privacy import hold_ledger, ledger, restriction_ledger
from recordings_service.privacy.erasure import Replayed, purge_replayed, replay_deletions
from recordings_service.runtime import RESTORING, Runtime
from recordings_service.storage.embedded import EmbeddedS3, ensure_secrets
from recordings_service.storage.object_store import S3ObjectStore
from web import cli_support, run_preflight
from web.cli_support import CLI_ACTOR


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--no-objects",
    is_flag=True,
    help="Leave the stored objects out (list them only): for a store backed up by its own means, not the embedded one.",
)
@click.option(
    "--no-keys",
    is_flag=True,
    help="Leave the key material out, to keep it apart from the backups; the restore then takes the keys from the"
    " environment.",
)
def backup(directory: Path, no_objects: bool, no_keys: bool) -> None:
    """Write the database, key material and stored objects into DIRECTORY (new or empty; guard it like the keys)."""
    if no_objects and not Settings.external_store():
        # The embedded store keeps its objects in the data directory, which the backup is there to replace.
        raise click.UsageError(
            "--no-objects leaves out the embedded store's objects, which nothing else backs up: "
            "leave it out, or use it only with an external store (CALLVAULT_S3_ENDPOINT)"
        )
    runtime = cli_support.load_runtime()
    archive.prepare_empty(directory, what="backup directory")
    # Before the dump, so the backup's own trail shows it was taken.
    _record(runtime, "backup.started", {"objects": not no_objects})
    try:
        summary = archive.write_backup(
            runtime.settings,
            runtime.engine,
            runtime.store,
            directory=directory,
            objects=not no_objects,
            keys=not no_keys,
            progress=lambda count, size: click.echo(f"objects {count} ({size} bytes)", err=True),
        )
    except Exception as exc:
        # The trail says a backup that started did not finish (a full disk, the store gone), not only that it began.
        _record(runtime, "backup.failed", {"objects": not no_objects, "error": type(exc).__name__})
        raise
    _record(
        runtime,
        "backup.finished",
        {"database": summary.database, "objects": summary.objects, "object_bytes": summary.object_bytes},
    )
    listed = "copied" if summary.objects_included else "listed"
    click.echo(
        f"backup in {directory}: database ({summary.database}), {'no keys' if no_keys else 'keys'}, "
        f"objects={summary.objects} {listed} ({summary.object_bytes} bytes)"
    )


def _record(runtime: Runtime, action: str, details: dict[str, object]) -> None:
    with runtime.sessions() as session:
        record_event(session, actor=CLI_ACTOR, action=action, details=details)
        session.commit()


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(directory: Path) -> None:
    """Restore a backup into a new data directory (CALLVAULT_DATA_DIR, which must be empty) and an empty database."""
    settings = Settings.from_env()
    configure_logging(settings)
    manifest = archive.read_manifest(directory)
    embedded_store = not Settings.external_store()
    _refuse_before_writing(directory, manifest, settings, embedded_store=embedded_store)
    try:
        restored, replayed = _restore(directory, manifest, settings, embedded_store=embedded_store)
    except BaseException:
        click.echo(_after_a_stop(settings), err=True)
        raise
    report_replayed(replayed)
    click.echo(
        f"restored into {settings.data_dir}: database ({manifest['database']['kind']}), "
        f"{'keys' if archive.keys_included(manifest) else 'keys from the environment'}, objects={restored}; "
        "start `callvault run`, then run `callvault audit verify` and `callvault integrity check`"
    )
    _say_what_it_cannot_know(manifest["created_at"], embedded_store=embedded_store)


@dataclass(frozen=True)
class LedgerReplay:
    """What a replay of the store's ledger did: the deletions, the legal holds released and put back, the customers'
    objections put back, and the restrictions put in force and lifted."""

    deletions: Replayed
    holds_released: int
    holds: hold_ledger.Placements
    objections: ledger.ObjectionsReplayed
    restrictions: restriction_ledger.RestrictionsReplayed


def replay_ledger(runtime: Runtime) -> LedgerReplay:
    """After a restore: release the legal holds released since, delete again what the store's deletion ledger names
    and this database holds undeleted, put back the holds placed, the objections and the restrictions recorded
    since, then purge the deleted recordings' objects (`callvault restore`, and `callvault replay-ledger` after a
    restore by other means)."""
    store = runtime.store
    recorded_holds = hold_ledger.recorded_holds(store)
    with runtime.sessions() as session:
        holds_released = hold_ledger.replay_releases(session, recorded_holds, actor=CLI_ACTOR)
        deletions = replay_deletions(session, store, actor=CLI_ACTOR, now=utcnow())
        placements = hold_ledger.replay_placements(session, recorded_holds, actor=CLI_ACTOR)
        objections = ledger.replay_objections(session, store, actor=CLI_ACTOR)
        restrictions = restriction_ledger.replay_restrictions(session, store, actor=CLI_ACTOR)
        session.commit()
    with runtime.sessions() as session:
        purge_replayed(session, store, deletions, now=utcnow())
        session.commit()
    return LedgerReplay(
        deletions=deletions,
        holds_released=holds_released,
        holds=placements,
        objections=objections,
        restrictions=restrictions,
    )


def report_replayed(replayed: LedgerReplay) -> None:
    """What a replay of the store's ledger did: held recordings on stderr, the counts on stdout."""
    for recording_id in replayed.deletions.held:
        click.echo(f"recording {recording_id}: deleted after the backup, but on legal hold here: review", err=True)
    not_replayed = (
        (replayed.objections.unknown, "objection(s) of customers", "enter them again"),
        (replayed.holds.unknown, "legal hold(s) on calls or customers", "place them again"),
        (replayed.restrictions.unknown, "restriction(s) of customers", "enter them again"),
    )
    for count, what, redo in not_replayed:
        if count:
            click.echo(
                f"{count} {what} this database does not hold (new since the backup) are not replayed: {redo} if "
                "their calls come back",
                err=True,
            )
    deletions = f"deletions replayed={len(replayed.deletions.deleted)} held={len(replayed.deletions.held)}"
    holds = f"holds placed={replayed.holds.placed} released={replayed.holds_released}"
    restrictions = f"restrictions replayed={replayed.restrictions.in_force} lifted={replayed.restrictions.lifted}"
    click.echo(f"{deletions} objections replayed={replayed.objections.changed} {holds} {restrictions}")


def _refuse_before_writing(
    directory: Path, manifest: dict[str, Any], settings: Settings, *, embedded_store: bool
) -> None:
    """Every refusal that can be known before anything is written: one can simply run the restore again."""
    if embedded_store and not manifest["objects_included"]:
        raise click.ClickException(
            "this backup lists the objects without holding them (--no-objects): set CALLVAULT_S3_ENDPOINT "
            "(and the bucket and its keys) to the store that still holds them"
        )
    archive.check_restorable(directory, manifest, data_dir=settings.data_dir, database_url=settings.database_url)
    archive.refuse_keys_unset(manifest, external_store=not embedded_store)
    # Else the check after loading (`check_keys`) refused it, once every object was copied: hours on a large store.
    archive.refuse_keys_lacking(directory, manifest, environ=os.environ)
    if embedded_store:  # naming each port's holder, as `callvault run` does
        try:
            run_preflight.check_ports_free(run_preflight.embedded_store_ports(settings.s3_port), wait_s=0.0)
        except run_preflight.PortsBusy as exc:
            raise click.ClickException(str(exc)) from None


def _say_what_it_cannot_know(taken: str, *, embedded_store: bool) -> None:
    """What the restored database cannot hold: decisions made after the backup that no ledger kept."""
    if embedded_store:
        # A fresh embedded store holds the ledger as the backup does: it knows nothing recorded after it.
        click.echo(
            f"the ledger came from the backup itself: calls erased or swept, and objections, legal holds and "
            f"restrictions recorded after {taken} are not replayed. If the old installation's store still runs, run "
            "`callvault replay-ledger` with CALLVAULT_S3_ENDPOINT (and its bucket and keys) set to it, then "
            "`callvault retention sweep` here (it removes the deleted calls' objects from this store); else carry "
            "them out again from their own records",
            err=True,
        )
    # Deletions, holds, objections and restrictions are replayed from the store; the other decisions made since
    # were only in the database.
    click.echo(
        f"the backup was taken at {taken}: subject requests registered after it (other than restrictions carried "
        "out), their deadlines' extensions, rectifications and access packages are not in it; enter them again "
        "from their own records",
        err=True,
    )


def _after_a_stop(settings: Settings) -> str:
    """What to clean up before the next try. A load the database refused leaves it as empty as it was (the restore
    drops what it made): telling the operator to empty it would send them looking for tables that are not there."""
    try:
        empty = not portable.holds_tables(settings.database_url)
    except SQLAlchemyError:  # unreachable now: it may still hold what was loaded
        empty = False
    if empty:
        return (
            f"the restore stopped before it finished and left the database empty: remove {settings.data_dir}, "
            "fix the cause and run the restore again"
        )
    return (
        f"the restore stopped before it finished: remove {settings.data_dir} and empty the database "
        "before running it again"
    )


def _restore(
    directory: Path, manifest: dict[str, Any], settings: Settings, *, embedded_store: bool
) -> tuple[int, LedgerReplay]:
    """Keys, then objects, then the database, then what the store's ledger recorded since the backup (deletions and
    objections): the number of objects restored, and what the replay did."""
    archive.restore_keys(directory, manifest, settings.data_dir)
    # From the first thing written to the last step: every process but this one refuses the data directory.
    marker = settings.data_dir / RESTORING
    marker.write_text(f"restoring {directory}, begun {utcnow().isoformat(timespec='seconds')}\n")
    generated = ensure_secrets(settings.data_dir) if embedded_store else {}
    settings = Settings.from_env()  # now with the restored keys
    embedded = None
    if embedded_store:
        embedded = EmbeddedS3.from_settings(settings, generated["CALLVAULT_S3_JWT_KEY"])
        click.echo(f"starting SeaweedFS on {embedded.endpoint} to restore the objects", err=True)
        embedded.start()
    try:
        store = S3ObjectStore.from_settings(settings)
        runtime = Runtime.from_settings(settings, store=store, restoring=True)
        restored = 0
        if manifest["objects_included"]:
            store.ensure_bucket()
            restored = archive.restore_objects(
                store,
                directory,
                manifest,
                anchor_retention_days=settings.audit_anchor_retention_days,
                progress=lambda count, of: click.echo(f"restored objects {count} of {of}", err=True),
            )
        archive.restore_database(runtime.engine, directory, manifest)
        # Keys set in the environment win over the backup's: they must be the trail's and the calls' own, or the
        # restore's own event would break the trail and every call would read as tampered with. Refused before
        # writing where the manifest names the key ids (`refuse_keys_lacking`); here for a backup of an earlier
        # release, and a keyset with the key ids but not the keys.
        runtime.check_keys()
        with runtime.sessions() as session:
            if manifest["objects_included"]:
                archive.forget_object_versions(session)
            if manifest["database"]["kind"] == "portable":
                portable.rebuild_search_index(session)
            details = {"backup_created_at": manifest["created_at"], "objects": restored}
            record_event(session, actor=CLI_ACTOR, action="backup.restored", details=details)
            session.commit()
        replayed = replay_ledger(runtime)
        marker.unlink()
    finally:
        if embedded is not None:
            embedded.stop()
    return restored, replayed
