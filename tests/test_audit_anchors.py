"""A trail that cannot be forged: events signed with an HMAC key kept out of the database, the chain head
anchored in the store (under Object Lock where the bucket has it), and `callvault audit verify` catching a
truncated or rewritten table, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import Result
from sqlalchemy import JSON, Connection, bindparam, select, text
from sqlalchemy.orm import Session, sessionmaker

from jobs.audit_anchor import anchor_chain_head
from jobs.schedule import JOBS
from recordings_service import audit
from recordings_service.audit import AuditKeys, record_event
from recordings_service.audit_anchors import ANCHOR_PREFIX
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from recordings_service.storage.embedded import ensure_secrets
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.factories.accounts import SYSTEM
from web import create_app

KEY = secrets.token_urlsafe(32)
OLD_KEY = secrets.token_urlsafe(32)


@pytest.fixture
def anchor_store(base_settings: Settings) -> S3ObjectStore:
    """A bucket of this test's own (anchors cannot be deleted, and another test's would name other events)."""
    store = S3ObjectStore(make_client(base_settings), "anchors-" + secrets.token_hex(6))
    store.ensure_bucket()
    return store


@pytest.fixture
def make_runtime(
    runtime: Runtime, settings: Settings, connection: Connection, anchor_store: S3ObjectStore
) -> Callable[..., Runtime]:
    """A runtime on the test's transaction with the given audit keys, its sessions signing with them."""

    def build(*, key: str = KEY, old_keys: str = "") -> Runtime:
        sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        keyed = replace(settings, audit_key=key, audit_keys_old=old_keys)
        return replace(runtime, settings=keyed, sessions=sessions, store=anchor_store)

    return build


@pytest.fixture
def signed(make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime()


@pytest.fixture
def session_of(signed: Runtime) -> Iterator[Session]:
    with signed.sessions() as session:
        yield session


def chain(session: Session, count: int = 4) -> list[AuditEvent]:
    return [
        record_event(session, actor=SYSTEM, action=f"test.step{index}", object_id=str(index)) for index in range(count)
    ]


def allow_edits(session: Session, db_kind: str) -> None:
    """Edit the trail as a database superuser could (the append-only trigger is off on PostgreSQL)."""
    if db_kind == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))


def plain_hash(prev_hash: str, event: AuditEvent, **changes: object) -> str:
    """What an attacker without the key can compute: the SHA-256 chain of the trail before the HMAC."""
    content = {**audit.event_content(event), **changes}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


# ---------------------------------------------------------------- signing and rotation


def test_events_are_signed_and_verify_only_with_their_key(session_of: Session) -> None:
    events = chain(session_of)
    assert {event.key_id for event in events} == {audit.key_id(KEY)}
    assert all(event.hash != plain_hash(event.prev_hash, event) for event in events)
    assert audit.event_record(events[0])["key_id"] == audit.key_id(KEY)  # exports say which hashes are HMACs
    assert audit.verify_chain(session_of, keys=audit.session_keys(session_of))[1] is None

    _, broken = audit.verify_chain(session_of, keys=None)
    assert broken is not None
    assert broken.event_id == events[0].id
    assert f"audit key {audit.key_id(KEY)}, which is not configured" in broken.reason


def test_a_rotated_key_still_verifies_the_events_it_signed(make_runtime: Callable[..., Runtime]) -> None:
    with make_runtime(key=OLD_KEY).sessions() as before:
        old_events = chain(before, 2)
        before.commit()
    rotated = make_runtime(key=KEY, old_keys=f" {OLD_KEY} ,")
    with rotated.sessions() as after:
        new_event = record_event(after, actor=SYSTEM, action="test.rotated")
        assert new_event.key_id == audit.key_id(KEY) != old_events[0].key_id
        assert audit.verify_chain(after, keys=audit.session_keys(after))[1] is None
        _, broken = audit.verify_chain(after, keys=AuditKeys.from_settings(Settings(audit_key=KEY)))
    assert broken is not None
    assert broken.event_id == old_events[0].id


def test_keys_shorter_than_32_characters_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        AuditKeys.from_settings(Settings(audit_key=KEY, audit_keys_old="short"))
    assert AuditKeys.from_settings(Settings()) is None


def test_events_from_before_the_key_verify_but_none_may_follow_a_signed_one(
    connection: Connection, session_of: Session, db_kind: str
) -> None:
    unkeyed = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with unkeyed() as legacy:
        old = chain(legacy, 2)
        legacy.commit()
    assert {event.key_id for event in old} == {None}
    signed_events = chain(session_of, 2)
    keys = audit.session_keys(session_of)
    assert audit.verify_chain(session_of, keys=keys)[1] is None

    with unkeyed() as legacy:
        late = record_event(legacy, actor=SYSTEM, action="test.unsigned")
        legacy.commit()
    session_of.expire_all()
    _, broken = audit.verify_chain(session_of, keys=keys)
    assert broken is not None
    assert (broken.seq, broken.event_id) == (late.seq, late.id)
    assert broken.reason == f"unsigned (plain SHA-256) event after signed event {signed_events[0].seq}"


def test_embedded_secrets_include_an_audit_key(tmp_path: Path) -> None:
    generated = ensure_secrets(tmp_path)
    settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path)})
    keys = AuditKeys.from_settings(settings)
    assert keys is not None
    assert keys.current_id == audit.key_id(generated["CALLVAULT_AUDIT_KEY"])
    assert settings.audit_key not in repr(settings)


# ---------------------------------------------------------------- anchors and `callvault audit verify`


def test_verify_of_an_untouched_trail_exits_0_and_anchors_its_head_under_compliance_lock(
    signed: Runtime, session_of: Session, anchor_store: S3ObjectStore, verify: Callable[[Runtime], Result]
) -> None:
    chain(session_of)
    session_of.commit()
    result = verify(signed)
    assert result.exit_code == 0, result.output
    head = session_of.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert head.action == "audit.verified"
    assert head.details["intact"] is True
    key = f"{ANCHOR_PREFIX}{head.occurred_at:%Y/%m}/{head.id}.json"
    assert result.stdout.splitlines() == [f"intact ({head.seq - 1} events)", f"anchored event {head.seq} at {key}"]
    assert [info.key for info in anchor_store.list(ANCHOR_PREFIX)] == [key]
    body = json.load(anchor_store.get(key))
    assert {name: body[name] for name in ("event_id", "hash", "count")} == {
        "event_id": head.id,
        "hash": head.hash,
        "count": head.seq,
    }
    client = anchor_store._client
    stored = client.head_object(Bucket=anchor_store.bucket, Key=key)
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    assert stored["ObjectLockRetainUntilDate"] > utcnow() + timedelta(days=3649)
    with pytest.raises(ClientError):
        client.delete_object(Bucket=anchor_store.bucket, Key=key, VersionId=stored["VersionId"])

    again = verify(signed)
    assert again.exit_code == 0, again.output
    assert len(list(anchor_store.list(ANCHOR_PREFIX))) == 2


@pytest.mark.parametrize("deleted", [1, 3])
def test_deleting_the_newest_events_after_an_anchor_is_detected(
    signed: Runtime, session_of: Session, db_kind: str, verify: Callable[[Runtime], Result], deleted: int
) -> None:
    chain(session_of, 5)
    session_of.commit()
    assert verify(signed).exit_code == 0
    newest = list(session_of.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(deleted)))
    anchored_seq, anchored_id = newest[0].seq, newest[0].id
    kept = session_of.scalars(select(AuditEvent).where(AuditEvent.seq < newest[-1].seq).order_by(AuditEvent.seq.desc()))
    last_kept = kept.first()
    assert last_kept is not None
    allow_edits(session_of, db_kind)
    # The attacker leaves a consistent chain: the head row fixed up, then a new event reusing a freed number.
    session_of.execute(text("DELETE FROM audit_events WHERE seq >= :seq"), {"seq": newest[-1].seq})
    session_of.execute(
        text("UPDATE audit_chain_head SET seq = :seq, last_hash = :hash WHERE id = 1"),
        {"seq": last_kept.seq, "hash": last_kept.hash},
    )
    session_of.expire_all()
    record_event(session_of, actor=SYSTEM, action="test.after")
    session_of.commit()
    assert audit.verify_chain(session_of, keys=audit.session_keys(session_of))[1] is None

    result = verify(signed)
    assert result.exit_code == 1
    assert f"BROKEN at event {anchored_seq}: anchored event {anchored_id} is missing" in result.output
    assert "intact" not in result.stdout


@pytest.mark.parametrize("drop_key_id", [False, True], ids=["key-id-kept", "key-id-dropped"])
def test_a_row_rewritten_with_its_plain_sha256_chain_recomputed_is_named(
    signed: Runtime, session_of: Session, db_kind: str, verify: Callable[[Runtime], Result], drop_key_id: bool
) -> None:
    events = chain(session_of, 5)
    session_of.commit()
    assert verify(signed).exit_code == 0
    victim = events[2]
    rewritten = session_of.scalars(select(AuditEvent).where(AuditEvent.seq >= victim.seq).order_by(AuditEvent.seq))
    allow_edits(session_of, db_kind)
    prev_hash = events[1].hash
    update = text(
        "UPDATE audit_events SET details = :details, prev_hash = :prev, hash = :hash"
        + (", key_id = NULL" if drop_key_id else "")
        + " WHERE id = :id"
    ).bindparams(bindparam("details", type_=JSON))
    for event in list(rewritten):
        details = {"count": 999} if event.id == victim.id else event.details
        new_hash = plain_hash(prev_hash, event, details=details)
        session_of.execute(update, {"details": details, "prev": prev_hash, "hash": new_hash, "id": event.id})
        prev_hash = new_hash
    session_of.execute(text("UPDATE audit_chain_head SET last_hash = :hash WHERE id = 1"), {"hash": prev_hash})
    session_of.commit()
    session_of.expire_all()
    assert session_of.get(AuditEvent, victim.id).details == {"count": 999}  # type: ignore[union-attr]

    result = verify(signed)
    assert result.exit_code == 1
    reason = (
        f"unsigned (plain SHA-256) event after signed event {events[0].seq}"
        if drop_key_id
        else "content does not match its hash"
    )
    assert f"BROKEN at event {victim.seq}: {reason}" in result.output


def test_verify_refuses_without_an_audit_key(runtime: Runtime, verify: Callable[[Runtime], Result]) -> None:
    result = verify(runtime)
    assert result.exit_code == 1
    assert "CALLVAULT_AUDIT_KEY is not set" in result.output


def test_the_hourly_job_anchors_a_moved_head_once(
    signed: Runtime, session_of: Session, anchor_store: S3ObjectStore
) -> None:
    assert next(job for job in JOBS if job.id == "audit_anchor").seconds == 3600
    head = chain(session_of, 2)[-1]
    session_of.commit()
    assert anchor_chain_head(signed) == {"anchored": 1, "seq": head.seq}
    assert anchor_chain_head(signed) == {"anchored": 0, "seq": 0}
    assert [info.key.rsplit("/", 1)[-1] for info in anchor_store.list(ANCHOR_PREFIX)] == [f"{head.id}.json"]


# ---------------------------------------------------------------- readiness


def test_readyz_reports_how_anchors_are_kept(signed: Runtime, base_settings: Settings) -> None:
    locked = create_app(signed.settings, runtime=signed).test_client().get("/readyz")
    assert locked.get_json()["anchors"] == "object-lock compliance"

    client = make_client(base_settings)
    bucket = "plain-" + secrets.token_hex(6)
    client.create_bucket(Bucket=bucket)
    # Versioned, as readiness requires of every bucket, without Object Lock.
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    unlocked = replace(signed, store=S3ObjectStore(client, bucket))
    response = create_app(signed.settings, runtime=unlocked).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["anchors"] == "no object lock (not enabled on the bucket)"
