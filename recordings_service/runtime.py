"""The long-lived objects every entry point (web, jobs, CLI) builds once from the settings."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import SESSION_AUDIT_KEYS, AuditKeys
from recordings_service.audit_key_check import check_signing_key
from recordings_service.config import PREFIX, Settings, SettingsError
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.logs import configure_logging
from recordings_service.models import (
    CustodyConfirmation,
    Recording,
    ResearchBatch,
    SubjectRequest,
    TrainingSecret,
    User,
)
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore

# Where a session carries the envelope: transcript text is sealed under each recording's data key, and
# every reader of a transcript already holds a session (see `envelope_of`).
SESSION_ENVELOPE = "envelope"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    envelope: Envelope

    def __post_init__(self) -> None:
        self.sessions.configure(
            info={SESSION_ENVELOPE: self.envelope, SESSION_AUDIT_KEYS: AuditKeys.from_settings(self.settings)}
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, store: ObjectStore | None = None, restoring: bool = False) -> Runtime:
        """The runtime of a process; `restoring` for the restore's own, in the data directory it marked
        (`RESTORING`), which every other refuses."""
        # The settings checked first (the engine touches no file before it connects): a process refused for a
        # missing or malformed key made the data directory and an empty database file on its way, which a later
        # `callvault restore` then found "not empty".
        engine = make_engine(settings.database_url, pool_pre_ping=True)
        envelope = Envelope(settings.master_key)
        AuditKeys.from_settings(settings)
        if not restoring:
            refuse_unfinished_restore(settings.data_dir)
        make_private(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            store=store if store is not None else S3ObjectStore.from_settings(settings),
            envelope=envelope,
        )

    def check_keys(self, *, second_factors: bool = True, master_key: bool = True) -> None:
        """Raise `SettingsError` when this process does not hold the key of the audit trail's newest event, or of
        any event (`audit_key_check.ForeignAuditKey`), or its master key does not open the stored calls' data keys,
        or others it sealed (`ForeignMasterKey`; the active accounts' second factors too, unless told not to: the
        command that resets a second factor the keyset no longer opens; the master key not at all with
        `master_key=False`: the commands that report and rewrap what each master key wraps, lacking keys included).

        A database that cannot be read yet (down, or not migrated) has nothing to check: the process starts,
        as it always has, and its readiness check reports the database.
        """
        try:
            with self.sessions() as session:
                check_signing_key(session)
                if master_key:
                    check_master_key(session, self.envelope, second_factors=second_factors)
        except DBAPIError as exc:
            log.warning("keys not checked: the database cannot be read (%s)", type(exc.orig).__name__)


# Kept in the data directory while `callvault restore` fills it; a restore that stopped leaves it there.
RESTORING = "RESTORING"


class UnfinishedRestore(SettingsError):
    """The data directory holds what a restore that did not finish left."""


def refuse_unfinished_restore(data_dir: Path) -> None:
    """Refuse a data directory a restore did not finish: a service started on it would serve a database that never
    had the deletions made since the backup replayed (nor, perhaps, all its objects), as if restored."""
    marker = data_dir / RESTORING
    if marker.is_file():
        raise UnfinishedRestore(
            f"a restore into {data_dir} did not finish ({marker.read_text().strip()}): remove {data_dir}, empty the"
            " database and run the restore again"
        )


class ForeignMasterKey(SettingsError):
    """The master key does not open the data keys of the calls the database holds."""


def check_master_key(session: Session, envelope: Envelope, *, second_factors: bool = True) -> None:
    """Refuse a master key that does not unwrap the newest stored call's data key: another machine's, or one
    generated afresh beside a restored database, under which every stored call reads as tampered with and every
    new call is sealed under a key the old ones do not share."""
    newest = session.execute(
        select(Recording.id, Recording.master_key_id, Recording.wrapped_data_key)
        .where(Recording.wrapped_data_key != b"")
        .order_by(Recording.id.desc())
        .limit(1)
    ).first()
    if newest is not None:
        try:
            envelope.streaming_key(newest.wrapped_data_key, object_id=newest.id)
        except DecryptionFailed:
            raise ForeignMasterKey(
                f"{PREFIX}MASTER_KEY (primary key id {envelope.master_key_id}) does not open the data keys of the"
                f" calls in this database (the newest call's was wrapped under key id {newest.master_key_id}): set"
                " it to the master key the calls were stored with"
            ) from None
    _refuse_retired_keys_missing(session, envelope, second_factors=second_factors)


# What the master key wraps, with the key id kept beside it: (what, the wrapped key, its key id); a key forgotten
# (crypto-shredded) leaves its id behind, so only a wrapped key still held needs its master key.
SEALED: tuple[tuple[str, Any, Any], ...] = (
    ("calls", Recording.wrapped_data_key, Recording.master_key_id),
    ("training secrets", TrainingSecret.sealed, TrainingSecret.master_key_id),
    ("research pseudonym keys", ResearchBatch.pseudonym_key, ResearchBatch.pseudonym_master_key_id),
    ("research packages", ResearchBatch.package_wrapped_key, ResearchBatch.package_master_key_id),
    (
        "custody certificates",
        CustodyConfirmation.certificate_wrapped_key,
        CustodyConfirmation.certificate_master_key_id,
    ),
    ("access packages", SubjectRequest.package_wrapped_key, SubjectRequest.package_master_key_id),
)


def _refuse_retired_keys_missing(session: Session, envelope: Envelope, *, second_factors: bool) -> None:
    """Refuse a keyset that lacks a key older calls (or other secrets it sealed) were wrapped under: an old key removed
    after a rotation (while the newest call opens) left those calls unplayable (a 400 "cannot be unwrapped"), and the
    weekly integrity check audited each as tampered with, for what is a setting to put right."""
    missing = sealed_key_ids(session, envelope, second_factors=second_factors, outside=envelope.key_ids)
    if missing:
        named = ", ".join(f"key id {sealed.key_id} ({sealed.count} {sealed.what})" for sealed in missing)
        # A lost key leaves a way out for the second factors (their holders enrol again), not for what it sealed:
        # named only where they alone lack a key, as `users reset-mfa` is itself refused while anything else does.
        way_out = (
            "; or reset each second factor it sealed (`callvault users list` names the accounts): callvault users"
            " reset-mfa NAME"
            if all(sealed.what == SECOND_FACTORS for sealed in missing)
            else ""
        )
        raise ForeignMasterKey(
            f"{PREFIX}MASTER_KEY (key ids {', '.join(map(str, sorted(envelope.key_ids)))}) lacks keys stored data"
            f" was wrapped under: {named}; put the key back in the keyset (a rotation adds a new primary key and keeps"
            f" the old ones until `callvault keys rewrap` has wrapped everything again: `callvault keys status`"
            f" names the keys that may go){way_out}"
        )


SECOND_FACTORS = "second factors"


@dataclass(frozen=True)
class SealedUnder:
    """How many of one kind of secret (`what`) a master key id wrapped."""

    what: str
    key_id: int
    count: int


def sealed_key_ids(
    session: Session, envelope: Envelope, *, second_factors: bool = True, outside: Collection[int] = ()
) -> list[SealedUnder]:
    """The master key ids the stored data needs (outside `outside`, where given): what each wrapped, and how many,
    from `SEALED` and (with `second_factors`) the active accounts' TOTP seeds. What a process checks as it starts
    (`check_master_key`), and what a backup records for its restore to check before writing anything."""
    needed = [
        SealedUnder(what, needed_id, count)
        for what, wrapped, key_id in SEALED
        for needed_id, count in session.execute(
            select(key_id, func.count())
            # A key id never kept (NULL) names no key to ask for, as it never matched a keyset's.
            .where(wrapped.is_not(None), wrapped != b"", key_id.is_not(None), key_id.not_in(outside))
            .group_by(key_id)
            .order_by(key_id)
        )
    ]
    if second_factors:
        seeds = seed_key_ids(session, envelope)
        needed += [SealedUnder(SECOND_FACTORS, key_id, count) for key_id, count in seeds if key_id not in outside]
    return needed


def seed_key_ids(session: Session, envelope: Envelope, *, active: bool = True) -> list[tuple[int, int]]:
    """(key id, how many) of the active (or, `active=False`, the disabled) accounts' TOTP seeds by the master key they
    were sealed under: a seed keeps no key id beside it, but its ciphertext names the key (one row an account: few
    enough to read them all). A disabled account's seed does not count at start: enabling the account is refused
    until its second factor is reset (`accounts.enable_user`), and `callvault users list` marks each account whose
    seed needs it; `callvault keys status` counts them too, as data a rewrap wraps again."""
    seeds = session.scalars(select(User.mfa_seed).where(User.mfa_seed.is_not(None), User.active.is_(active)))
    sealed_under = Counter(
        key_id for sealed in seeds if sealed and (key_id := envelope.sealed_under(sealed)) is not None
    )
    return sorted(sealed_under.items())


def envelope_of(session: Session) -> Envelope:
    """The envelope the session was made with (by `Runtime.sessions`)."""
    envelope = session.info.get(SESSION_ENVELOPE)
    if not isinstance(envelope, Envelope):
        raise RuntimeError("this session was not made by Runtime.sessions, so it cannot open transcripts")
    return envelope


def make_private(settings: Settings) -> None:
    """Make the data directory (0700) and a SQLite database (0600) readable by the service's user only."""
    # At every start, so that what an earlier run or an older version made under a looser umask is tightened too.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    refuse_shared_directory(settings.data_dir)
    os.chmod(settings.data_dir, 0o700)
    database = sqlite_file(settings.database_url)
    if database is None:
        return
    # Created here rather than by SQLite, which would use the umask; its -wal and -shm files copy this mode.
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        if path.exists():
            os.chmod(path, 0o600)


def refuse_shared_directory(data_dir: Path) -> None:
    """Refuse a shared directory such as /tmp as the data directory: making it private would lock everyone else out
    of it, and the secrets written there would be beside other users' files."""
    if data_dir.is_dir() and data_dir.stat().st_mode & stat.S_ISVTX:
        raise SettingsError(f"{PREFIX}DATA_DIR is a shared directory ({data_dir}); give Callvault its own")


def sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL names; None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in {None, "", ":memory:"} or url.query.get("uri"):
        return None
    return Path(url.database)


def process_runtime(process: str, *, failed_status: int = 1) -> Runtime:
    """The runtime of a long-running process (`web`, `jobs`) from the environment, its logging set up and its keys
    checked. A malformed setting, key or database URL ends the process with one line naming it and `failed_status`,
    where a service manager's journal got a traceback (gunicorn's, one per worker)."""
    try:
        settings = Settings.from_env()
        configure_logging(settings)
        runtime = Runtime.from_settings(settings)
        runtime.check_keys()
    except (ValueError, ArgumentError) as exc:  # a SettingsError, a master key or a database URL SQLAlchemy refuses
        print(f"{process} process not started: {exc}", file=sys.stderr)
        raise SystemExit(failed_status) from None
    return runtime
