"""The key ids a backup's data needs, recorded in its manifest, so that a restore whose keys lack one is refused before
it writes anything, not after copying every object and loading the database (`Runtime.check_keys`, which a process
makes as it starts, then refused it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from recordings_service.audit import AuditKeys
from recordings_service.audit_key_check import signing_key_ids
from recordings_service.config import PREFIX, Settings, SettingsError
from recordings_service.runtime import sealed_key_ids
from recordings_service.storage.encryption import Envelope

Dumped = TypeVar("Dumped")
# The manifest's entry; absent from backups of earlier releases, which the check after loading alone covers.
MANIFEST_ENTRY = "needed_keys"


class NeededKeys(BaseModel):
    """The master key ids that wrapped what the database holds, and the audit key ids that signed its trail."""

    master: list[int]
    audit: list[str]


def needed_around(engine: Engine, envelope: Envelope, dump: Callable[[], Dumped]) -> tuple[Dumped, dict[str, Any]]:
    """Run `dump`, and what the data it dumps needs (as a process checks it at start, the second factors included):
    read before the dump and after it, and both kept. Read after it alone missed a key whose last call a sweep
    or an erasure took while the dump ran (its snapshot, which holds that call, was taken as it began: for hours on
    a large database); read before alone, one first used as it began (the current key, which a restore holds)."""
    before = _key_ids(engine, envelope)
    dumped = dump()
    after = _key_ids(engine, envelope)
    return dumped, NeededKeys(master=sorted(before[0] | after[0]), audit=sorted(before[1] | after[1])).model_dump()


def _key_ids(engine: Engine, envelope: Envelope) -> tuple[set[int], set[str]]:
    with Session(engine) as session:
        return {sealed.key_id for sealed in sealed_key_ids(session, envelope)}, set(signing_key_ids(session))


def refuse_keys_missing(manifest: dict[str, Any], settings: Settings, *, keys_from: str) -> None:
    """Refuse, before anything is written, a restore whose keys (`settings`: those it will run with, `keys_from`
    saying whence) lack a key id the backup's manifest names."""
    if manifest.get(MANIFEST_ENTRY) is None:
        return
    needed = NeededKeys.model_validate(manifest[MANIFEST_ENTRY])
    master = Envelope(settings.master_key).key_ids if settings.master_key else frozenset()
    audit = AuditKeys.from_settings(settings)
    lacking = []
    if missing_master := [str(key_id) for key_id in needed.master if key_id not in master]:
        held = ", ".join(map(str, sorted(master))) or "none"
        lacking.append(
            f"{PREFIX}MASTER_KEY (key ids {held}) lacks {_named('master key id', missing_master)}, which stored data"
            " was wrapped under (a key retired after `callvault keys rewrap` is still needed by the backups before it)"
        )
    if missing_audit := [key_id for key_id in needed.audit if audit is None or key_id not in audit.secrets]:
        lacking.append(
            f"neither {PREFIX}AUDIT_KEY nor {PREFIX}AUDIT_KEYS_OLD holds {_named('audit key', missing_audit)}, which"
            f" signed the trail (keep every key that signed it in {PREFIX}AUDIT_KEYS_OLD)"
        )
    if lacking:
        # A setting to put right (as the check at start says it), and longer than a `DomainError` keeps.
        raise SettingsError(
            f"this backup's data needs keys the restore would not hold ({keys_from}): {'; '.join(lacking)}. Nothing"
            " was written: set them and run the restore again"
        )


def _named(what: str, ids: list[str]) -> str:
    return f"{what}{'s' if len(ids) > 1 else ''} {', '.join(ids)}"
