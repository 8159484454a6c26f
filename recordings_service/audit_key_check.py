"""The check a process makes of its audit keys as it starts: it must hold the key of the trail's newest event and of
every key that signed events (`AuditSigningKey`, registered by `audit.record_events`), or the events it signs, and
`audit verify`, would find the chain broken."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from recordings_service.audit import AuditKeys, session_keys
from recordings_service.config import PREFIX, SettingsError
from recordings_service.models import AuditEvent, AuditSigningKey


class ForeignAuditKey(SettingsError):
    """The trail holds events signed with a key this process does not hold (its newest event's, or an earlier one)."""


def check_signing_key(session: Session) -> None:
    """Refuse a process that would sign on where nobody holding the trail's key could verify it.

    A web or jobs process started with another `CALLVAULT_AUDIT_KEY` (a typo, another machine's secrets) would
    sign each event it appends with that key, and `audit verify` with the trail's key would find the chain
    broken there; without a key it would append plain hashes after signed ones, which is a break too. So a
    process starts only when it holds the key of the newest event, as its current key or a retired one.
    """
    newest = _newest_key_id(session)
    keys = session_keys(session)
    if newest is None or (keys is not None and newest in keys.secrets):
        if keys is not None:
            _refuse_signing_keys_dropped(session, keys)
        return
    if keys is None:
        raise ForeignAuditKey(
            f"the audit trail is signed (its newest event with audit key {newest}) and {PREFIX}AUDIT_KEY is not set:"
            " events written now would break the chain; set it to the trail's key"
        )
    raise ForeignAuditKey(
        f"the audit trail's newest event is signed with audit key {newest}, which this process holds neither as"
        f" {PREFIX}AUDIT_KEY (key {keys.current_id}) nor in {PREFIX}AUDIT_KEYS_OLD: events it signed could not be"
        f" verified with the trail's key. Set {PREFIX}AUDIT_KEY to the trail's key (to rotate keys, keep the trail's"
        f" key in {PREFIX}AUDIT_KEYS_OLD)"
    )


def _refuse_signing_keys_dropped(session: Session, keys: AuditKeys) -> None:
    """Refuse a process that lacks a key earlier events were signed with (a retired key dropped from
    `CALLVAULT_AUDIT_KEYS_OLD`: `audit verify` would report the chain broken there, as if tampered with)."""
    # The newest event's key the caller has checked already.
    dropped = [key_id for key_id in _registered_key_ids(session) if key_id not in keys.secrets]
    if dropped:
        raise ForeignAuditKey(
            f"the audit trail holds events signed with audit key {', '.join(dropped)}, which this process holds"
            f" neither as {PREFIX}AUDIT_KEY (key {keys.current_id}) nor in {PREFIX}AUDIT_KEYS_OLD: `callvault audit"
            f" verify` would find the chain broken at the first of them. Keep every key that signed the trail in"
            f" {PREFIX}AUDIT_KEYS_OLD"
        )


def signing_key_ids(session: Session) -> list[str]:
    """The ids of the audit keys that signed the trail: those registered (`AuditSigningKey`) and the newest event's.
    What a process checks as it starts, and what a backup records for its restore to check before writing anything."""
    ids = set(_registered_key_ids(session))
    newest = _newest_key_id(session)
    if newest is not None:
        ids.add(newest)
    return sorted(ids)


def _registered_key_ids(session: Session) -> list[str]:
    """The keys `audit.record_events` registered (none in a schema from before migration 0047, until migrated)."""
    if not inspect(session.connection()).has_table(AuditSigningKey.__tablename__):
        return []
    return list(session.scalars(select(AuditSigningKey.key_id).order_by(AuditSigningKey.key_id)))


def _newest_key_id(session: Session) -> str | None:
    """The key id of the trail's newest event; None where it has none, or the newest is not signed."""
    return session.scalar(select(AuditEvent.key_id).order_by(AuditEvent.seq.desc()).limit(1))
