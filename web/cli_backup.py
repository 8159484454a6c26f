"""`callvault backup DIR` and `callvault restore DIR`: the database, key material and stored objects."""

from __future__ import annotations

import os
from pathlib import Path

import click

from recordings_service.audit import record_event
from recordings_service.backup import archive, portable
from recordings_service.config import Settings
from recordings_service.logs import configure_logging
from recordings_service.runtime import Runtime
from recordings_service.storage.embedded import EmbeddedS3, ensure_secrets
from recordings_service.storage.object_store import S3ObjectStore
from web import cli_support
from web.cli_support import CLI_ACTOR


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--no-objects",
    is_flag=True,
    help="Leave the stored objects out (list them only): for a store backed up by its own means, not the embedded one.",
)
def backup(directory: Path, no_objects: bool) -> None:
    """Write the database, key material and stored objects into DIRECTORY (new or empty; guard it like the keys)."""
    runtime = cli_support.load_runtime()
    archive.prepare_empty(directory, what="backup directory")
    with runtime.sessions() as session:
        # Before the dump, so the backup's own trail shows it was taken.
        record_event(session, actor=CLI_ACTOR, action="backup.started", details={"objects": not no_objects})
        session.commit()
    summary = archive.write_backup(
        runtime.settings, runtime.engine, runtime.store, directory=directory, objects=not no_objects
    )
    listed = "copied" if summary.objects_included else "listed"
    click.echo(
        f"backup in {directory}: database ({summary.database}), keys, "
        f"objects={summary.objects} {listed} ({summary.object_bytes} bytes)"
    )


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(directory: Path) -> None:
    """Restore a backup into a new data directory (CALLVAULT_DATA_DIR, which must be empty) and an empty database."""
    settings = Settings.from_env()
    configure_logging(settings)
    manifest = archive.read_manifest(directory)
    archive.restore_keys(directory, settings.data_dir)
    embedded_store = "CALLVAULT_S3_ENDPOINT" not in os.environ
    generated = ensure_secrets(settings.data_dir) if embedded_store else {}
    settings = Settings.from_env()  # now with the restored keys
    embedded = None
    if embedded_store and manifest["objects_included"]:
        embedded = EmbeddedS3.from_settings(settings, generated["CALLVAULT_S3_JWT_KEY"])
        click.echo(f"starting SeaweedFS on {embedded.endpoint} to restore the objects")
        embedded.start()
    try:
        store = S3ObjectStore.from_settings(settings)
        runtime = Runtime.from_settings(settings, store=store)
        restored = 0
        if manifest["objects_included"]:
            store.ensure_bucket()
            restored = archive.restore_objects(store, directory, manifest)
        archive.restore_database(runtime.engine, directory, manifest)
        with runtime.sessions() as session:
            if manifest["objects_included"]:
                archive.forget_object_versions(session)
            if manifest["database"]["kind"] == "portable":
                portable.rebuild_search_index(session)
            details = {"backup_created_at": manifest["created_at"], "objects": restored}
            record_event(session, actor=CLI_ACTOR, action="backup.restored", details=details)
            session.commit()
    finally:
        if embedded is not None:
            embedded.stop()
    click.echo(
        f"restored into {settings.data_dir}: database ({manifest['database']['kind']}), keys, objects={restored}; "
        "run `callvault audit verify`"
    )
