"""Backup and restore: the database, the key material and the stored objects, to and from one directory.

A backup directory holds `manifest.json`, a database dump (SQLite's online backup; PostgreSQL's `pg_dump`
custom format where `pg_dump` is on PATH, else a portable JSON-lines dump of every table), `keys/secrets.env`
(mode 0600) and `objects/` with every stored object's current version as the store holds it (originals stay
encrypted); with the objects left out, the manifest lists their keys, versions and sizes from the listing alone.
The database is dumped before the store is listed: ingest uploads before it commits, so every row in the dump
finds its object; an object without a row is an orphan that reconcile removes.
With the key material beside the data, the directory must be protected like the keys themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, delete, inspect, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.audit_anchors import ANCHOR_PREFIX, restore_anchor
from recordings_service.backup.needed_keys import MANIFEST_ENTRY, NeededKeys, needed_around, refuse_keys_missing
from recordings_service.backup.portable import dump_portable, holds_tables, load_portable
from recordings_service.backup.postgres import dump_pg, restore_pg_dump
from recordings_service.config import PREFIX, Settings, read_env_file, write_private
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import DerivedVersion, Recording
from recordings_service.runtime import sqlite_file
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import CHUNK, ObjectStore
from recordings_service.storage.spool import file_sha256

MANIFEST = "manifest.json"
FORMAT = 1
KEYS_FILE = Path("keys") / "secrets.env"
OBJECTS_DIR = "objects"
SQLITE_DUMP, PG_DUMP, PORTABLE_DUMP = "database.sqlite", "database.pgdump", "database.jsonl"
# Key material that may come from the environment rather than secrets.env: the backup carries it either way.
# Objects between two calls of a backup's or a restore's `progress`: a store of calls takes hours to copy.
PROGRESS_EVERY = 100
Progress = Callable[[int, int], None]
KEY_SETTINGS = ("master_key", "audit_key", "audit_keys_old", "secret_key", "s3_access_key", "s3_secret_key")


@dataclass(frozen=True)
class BackupSummary:
    database: str  # sqlite, pg_dump or portable
    objects: int
    object_bytes: int
    objects_included: bool


@dataclass(frozen=True)
class BackedUpObject:
    key: str
    version_id: str | None
    size: int
    sha256: str | None  # None where the objects were left out: hashing them would read the whole store
    file: str | None


def write_backup(
    settings: Settings,
    engine: Engine,
    store: ObjectStore,
    *,
    directory: Path,
    objects: bool,
    keys: bool = True,
    progress: Progress | None = None,
) -> BackupSummary:
    """Write a backup of the database, (with `keys`) the keys and (with `objects`) the stored objects into an empty
    `directory`; `progress(objects, bytes)` every `PROGRESS_EVERY` objects."""
    prepare_empty(directory, what="backup directory")
    try:
        database, needed = needed_around(
            engine, Envelope(settings.master_key), lambda: _dump_database(engine, directory)
        )
        if keys:
            write_private(directory / KEYS_FILE, _key_material(settings))
        listed = _back_up_objects(store, directory, include=objects, progress=progress)
        manifest = {
            "format": FORMAT,
            "created_at": utcnow().isoformat(),
            "database": {
                "kind": database,
                "file": _DUMP_FILES[database],
                "sha256": file_sha256(directory / _DUMP_FILES[database]),
                "revisions": sorted(schema.current_revisions(engine)),
            },
            "keys": str(KEYS_FILE) if keys else None,
            MANIFEST_ENTRY: needed,
            "objects_included": objects,
            "objects": [vars(item) for item in listed],
        }
        write_private(directory / MANIFEST, json.dumps(manifest, indent=1))
    except BaseException:
        # A backup cut short is no backup, and it holds a copy of the keys: leave the directory as it was given.
        _empty_out(directory)
        raise
    return BackupSummary(
        database=database,
        objects=len(listed),
        object_bytes=sum(item.size for item in listed),
        objects_included=objects,
    )


class _ObjectEntry(BaseModel):
    key: str
    version_id: str | None
    size: int
    sha256: str | None  # None in a backup that left the objects out (a restore puts none of them)
    file: str | None


class _DatabaseEntry(BaseModel):
    kind: Literal["sqlite", "pg_dump", "portable"]
    file: str
    sha256: str | None = None  # absent from backups written before it was recorded
    revisions: list[str]


class _Manifest(BaseModel):
    """What a restore reads from `manifest.json`: checked before anything is restored."""

    format: int
    created_at: str
    database: _DatabaseEntry
    objects_included: bool
    objects: list[_ObjectEntry]
    needed_keys: NeededKeys | None = None  # absent from backups written before it was recorded


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise Invalid("directory", f"{directory} holds no {MANIFEST}: it is not a Callvault backup")
    try:
        manifest = json.loads(path.read_bytes())
    except ValueError:  # not JSON, or not UTF-8
        raise Invalid("directory", f"{path} is not JSON: the backup is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise Invalid("directory", f"backup format {found!r} is not {FORMAT}")
    try:
        _Manifest.model_validate(manifest)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Invalid("directory", f"{path}: {where}: {first['msg']}: the backup is damaged") from None
    return manifest


def check_restorable(directory: Path, manifest: dict[str, Any], *, data_dir: Path, database_url: str) -> None:
    """Refuse, before anything is written, a restore that would stop half-way: a used data directory or
    database, a database of the other kind or of a newer release, a missing `pg_restore`, or a backup whose files
    are missing, truncated or (the database dump) changed. A refused restore leaves nothing to clean up before the
    next try."""
    _refuse_used(data_dir, what="data directory")
    database = manifest["database"]
    schema.require_known_revisions(database["revisions"], what="the backup's database")
    for name in (str(KEYS_FILE), database["file"]) if keys_included(manifest) else (database["file"],):
        if not (directory / name).is_file():
            raise Conflict(f"{directory / name} is missing: the backup is incomplete")
    copied = manifest["objects"] if manifest["objects_included"] else []
    bad = [entry for entry in copied if not _intact(directory, entry)]
    if bad:
        raise Conflict(
            f"{len(bad)} of {len(copied)} object files are missing, truncated or without a SHA-256 (first: "
            f"{bad[0]['file']} for {bad[0]['key']}): the backup is damaged"
        )
    if database["kind"] == "sqlite" and sqlite_file(database_url) is None:
        raise Conflict("a SQLite backup restores into a SQLite database only")
    if database["kind"] == "pg_dump" and make_url(database_url).get_backend_name() != "postgresql":
        raise Conflict("a pg_dump backup restores into PostgreSQL only")
    if database["kind"] == "pg_dump" and shutil.which("pg_restore") is None:
        raise Conflict("pg_restore is not on PATH: install the PostgreSQL client tools to restore a pg_dump backup")
    if holds_tables(database_url):
        raise Conflict("the database already holds tables: restore only into an empty database")
    if database.get("sha256") and file_sha256(directory / database["file"]) != database["sha256"]:
        raise Conflict(
            f"{directory / database['file']} does not match its SHA-256 in the manifest: the backup is damaged"
        )


def _intact(directory: Path, entry: dict[str, Any]) -> bool:
    path = directory / (entry["file"] or "")  # at its size, and with the hash restore_objects checks it against
    return bool(entry["sha256"]) and path.is_file() and path.stat().st_size == entry["size"]


def keys_included(manifest: dict[str, Any]) -> bool:
    """Whether the backup holds the key material (not one taken with `--no-keys`)."""
    return manifest.get("keys") is not None


def refuse_keys_unset(manifest: dict[str, Any], *, external_store: bool) -> None:
    """A backup taken with `--no-keys` restores with the keys the environment sets: refuse, before anything is
    written, one that sets no key to read the data and the trail with (or, for an external store, to reach it)."""
    if keys_included(manifest):
        return
    needed = ["MASTER_KEY", "AUDIT_KEY", *(["S3_ACCESS_KEY", "S3_SECRET_KEY"] if external_store else [])]
    unset = [PREFIX + name for name in needed if not os.environ.get(PREFIX + name)]
    if unset:
        raise Conflict(
            f"this backup holds no keys (taken with --no-keys): set {', '.join(unset)} to the installation's "
            f"(and {PREFIX}AUDIT_KEYS_OLD to its retired audit keys, if any)"
        )


def refuse_keys_lacking(directory: Path, manifest: dict[str, Any], *, environ: Mapping[str, str]) -> None:
    """Refuse, before anything is written, a restore whose keys lack one the data needs: those `environ` sets, over
    the backup's where it holds them (the environment wins, as in `Settings.from_env`)."""
    backed_up = read_env_file(directory / KEYS_FILE) if keys_included(manifest) else {}
    keys_from = "the backup's, with those the environment sets over them" if backed_up else "the environment's"
    refuse_keys_missing(manifest, Settings.from_env({**backed_up, **environ}), keys_from=keys_from)


def restore_keys(directory: Path, manifest: dict[str, Any], data_dir: Path) -> None:
    """Prepare a new, empty data directory (0700) with the backup's key material, if it holds any (0600); one
    taken without keys restores with those the environment sets (`check_restorable` asked for them)."""
    prepare_empty(data_dir, what="data directory")
    if keys_included(manifest):
        write_private(data_dir / "secrets.env", (directory / KEYS_FILE).read_text())


def restore_objects(
    store: ObjectStore,
    directory: Path,
    manifest: dict[str, Any],
    *,
    anchor_retention_days: int,
    progress: Progress | None = None,
) -> int:
    """Put every backed-up object under its key, checking each file's SHA-256 against the manifest first (the
    audit anchors retained as when they were made); `progress(restored, of)` every `PROGRESS_EVERY` objects."""
    if not manifest["objects_included"]:
        return 0
    restored, now = 0, utcnow()
    for entry in manifest["objects"]:
        path = directory / entry["file"]
        if file_sha256(path) != entry["sha256"]:
            raise Conflict(f"{path} does not match its SHA-256 in the manifest: the backup is damaged")
        if entry["key"].startswith(ANCHOR_PREFIX):
            restore_anchor(store, entry["key"], path.read_bytes(), retention_days=anchor_retention_days, now=now)
        else:
            with path.open("rb") as body:
                store.put(entry["key"], body)
        restored += 1
        if progress is not None and restored % PROGRESS_EVERY == 0:
            progress(restored, len(manifest["objects"]))
    return restored


def forget_object_versions(session: Session) -> None:
    """Restored objects got new version ids from the store: the retention sweep lists a recording's objects
    instead of trusting the ids in the dump (which would leave the restored versions behind)."""
    session.execute(update(Recording).values(storage_version_id=None, derived_versions_known=False))
    session.execute(delete(DerivedVersion))


def restore_database(engine: Engine, directory: Path, manifest: dict[str, Any]) -> None:
    """Load the dump into the configured database, which must hold no tables yet; then apply newer migrations."""
    if inspect(engine).get_table_names():
        raise Conflict("the database already holds tables: restore only into an empty database")
    kind, dump = manifest["database"]["kind"], directory / manifest["database"]["file"]
    if kind == "sqlite":
        target = sqlite_file(engine.url.render_as_string(hide_password=False))
        if target is None:
            raise Conflict("a SQLite backup restores into a SQLite database only")
        engine.dispose()
        _sqlite_copy(dump, target)
        os.chmod(target, 0o600)
    elif kind == "pg_dump":
        if engine.dialect.name != "postgresql":
            raise Conflict("a pg_dump backup restores into PostgreSQL only")
        restore_pg_dump(engine, dump)
    else:
        load_portable(engine, dump, revisions=manifest["database"]["revisions"])
    schema.upgrade(engine)


# ---------------------------------------------------------------- database

_DUMP_FILES = {"sqlite": SQLITE_DUMP, "pg_dump": PG_DUMP, "portable": PORTABLE_DUMP}


def _dump_database(engine: Engine, directory: Path) -> str:
    database = sqlite_file(engine.url.render_as_string(hide_password=False))
    if database is not None:
        _sqlite_copy(database, directory / SQLITE_DUMP)
        os.chmod(directory / SQLITE_DUMP, 0o600)
        return "sqlite"
    if engine.dialect.name == "postgresql" and shutil.which("pg_dump"):
        dump_pg(engine, directory / PG_DUMP)
        return "pg_dump"
    dump_portable(engine, directory / PORTABLE_DUMP)
    return "portable"


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other processes keep writing."""
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


# ---------------------------------------------------------------- keys and objects


def _key_material(settings: Settings) -> str:
    """The data directory's secrets file, with the keys the settings hold from the environment added."""
    values = read_env_file(settings.secrets_path)
    for name in KEY_SETTINGS:
        value = getattr(settings, name)
        if value:
            values[PREFIX + name.upper()] = value
    lines = "".join(f"{name}={value}\n" for name, value in values.items())
    return "# Callvault key material from a backup. Keep secret: it decrypts every recording in the backup.\n" + lines


def _back_up_objects(
    store: ObjectStore, directory: Path, *, include: bool, progress: Progress | None
) -> list[BackedUpObject]:
    # Within one key the store lists versions newest first: the first seen is the current one.
    versions: dict[str, str] = {}
    for version in store.list_versions(""):
        if not version.delete_marker:
            versions.setdefault(version.key, version.version_id)
    if include:
        (directory / OBJECTS_DIR).mkdir(mode=0o700)
    listed, copied_bytes = [], 0
    for number, info in enumerate(store.list(""), start=1):
        if not include:  # listed only, with the listing's size: reading a large store takes hours
            listed.append(BackedUpObject(info.key, versions.get(info.key), info.size, None, None))
            copied_bytes += info.size
            continue
        file = f"{OBJECTS_DIR}/{number:08d}"
        try:
            digest, size = _copy_object(store, info.key, directory / file)
        except NotFound:
            # Deleted since it was listed (a retention sweep, an expired research package): nothing to keep.
            continue
        listed.append(BackedUpObject(info.key, versions.get(info.key), size, digest, file))
        copied_bytes += size
        if progress is not None and len(listed) % PROGRESS_EVERY == 0:
            progress(len(listed), copied_bytes)
    return listed


def _copy_object(store: ObjectStore, key: str, target: Path) -> tuple[str, int]:
    """Stream one object into `target`, returning its SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    body = store.get(key)
    try:
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    finally:
        body.close()
    return digest.hexdigest(), size


def prepare_empty(directory: Path, *, what: str) -> None:
    """Make `directory` (0700) unless it exists with something in it, which is refused."""
    _refuse_used(directory, what=what)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def _empty_out(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _refuse_used(directory: Path, *, what: str) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise Conflict(f"the {what} {directory} is not empty: give an empty or new one")
