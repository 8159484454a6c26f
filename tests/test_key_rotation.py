"""Retiring a master key: `callvault keys status` says what each key still wraps, `callvault keys rewrap` wraps it
again under the primary key, after which the old key leaves the keyset and every call, second factor, pseudonym,
research package and legal hold reason still opens, and a process starts. Rewrap never brings back a key an erasure
shredded meanwhile."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from recordings_service import mfa
from recordings_service.backup.key_rotation import HOLD_REASONS, read_batch, rewrap
from recordings_service.db import make_sessionmaker
from recordings_service.errors import Unavailable
from recordings_service.models import AuditEvent, Recording, ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.privacy.hold_ledger import HOLDS, record_hold, recorded_holds
from recordings_service.privacy.holds import place_hold
from recordings_service.runtime import ForeignMasterKey, Runtime
from recordings_service.storage.encryption import Envelope, generate_master_key
from recordings_service.storage.object_store import S3ObjectStore, make_client
from recordings_service.training.agents import agent_names
from tests.factories.accounts import make_enrolled_user, make_user
from tests.factories.keysets import only_primary, rotated
from tests.factories.privacy import OFFICER
from tests.factories.recordings import make_recording
from tests.factories.research import draft, institute
from web import cli, cli_support

REASON = "Complaint 12: the customer disputes the tariff agreed on this call"
PACKAGE = b"PK-research-package-" + secrets.token_bytes(64)


@pytest.fixture
def own_bucket(runtime: Runtime) -> Iterator[S3ObjectStore]:
    """A bucket of the test's own: a rewrap reseals every legal hold reason of the ledger it finds."""
    bucket = S3ObjectStore(make_client(runtime.settings), "keys-" + secrets.token_hex(4))
    bucket.ensure_bucket()
    yield bucket
    bucket.delete_versions((version.key, version.version_id) for version in bucket.list_versions(""))


@pytest.fixture
def old(runtime: Runtime, own_engine: Engine, own_bucket: S3ObjectStore) -> Runtime:
    """The runtime on a database and a bucket of the test's own, under the keyset before the rotation."""
    return replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine), store=own_bucket)


def _with_keys(runtime: Runtime, master_key: str) -> Runtime:
    return replace(runtime, envelope=Envelope(master_key))


def _cli(monkeypatch: pytest.MonkeyPatch, runtime: Runtime) -> Any:
    """`callvault` on `runtime`, its `load_runtime` checking the keys as the real one does."""

    def load_runtime(**given: Any) -> Runtime:
        runtime.check_keys(second_factors=given.get("second_factors", True), master_key=given.get("master_key", True))
        return runtime

    monkeypatch.setattr(cli_support, "load_runtime", load_runtime)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli.main, list(args))

    return run


@dataclass(frozen=True)
class Stored:
    calls: dict[str, str]  # recording id: SHA-256 of its original
    active: tuple[str, str]  # user id, seed
    disabled: tuple[str, str]
    agent: str  # agent-7's pseudonym
    batch_id: str
    hold_id: str


def _store_everything(runtime: Runtime) -> Stored:
    envelope = runtime.envelope
    with runtime.sessions() as session:
        calls = [make_recording(session, runtime.store, envelope, audio=secrets.token_bytes(3000)) for _ in range(3)]
        active, active_seed = make_enrolled_user(session, envelope, username="active")
        disabled, disabled_seed = make_enrolled_user(session, envelope, username="departed")
        disabled.active = False
        agent = agent_names(session, envelope, show_agents=False)("agent-7")
        batch = draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id)
        buffer = _Kept()
        wrapped = envelope.encrypt(io.BytesIO(PACKAGE), buffer, object_id=batch.id)
        batch.package_key = f"exports/{batch.id}/package.zip"
        runtime.store.put(batch.package_key, io.BytesIO(buffer.kept))
        batch.package_wrapped_key, batch.package_master_key_id = wrapped.wrapped, wrapped.master_key_id
        hold = place_hold(session, actor=OFFICER, reason=REASON, recording_id=calls[0].id).hold
        session.commit()
        record_hold(session, runtime.store, hold)
        return Stored(
            calls={call.id: call.sha256 for call in calls},
            active=(active.id, active_seed),
            disabled=(disabled.id, disabled_seed),
            agent=agent,
            batch_id=batch.id,
            hold_id=hold.id,
        )


class _Kept(io.BytesIO):
    """A destination that keeps what was written to it after it is closed."""

    kept = b""

    def close(self) -> None:
        self.kept = self.getvalue()
        super().close()


def _status_rows(result: Result) -> list[list[str]]:
    return [line.split("\t") for line in result.stdout.splitlines()[1:-1]]


def _wrapped_columns(session: Session) -> list[Any]:
    return [
        *session.execute(select(Recording.id, Recording.wrapped_data_key, Recording.master_key_id)).all(),
        *session.execute(select(User.id, User.mfa_seed)).all(),
        *session.execute(
            select(ResearchBatch.id, ResearchBatch.pseudonym_key, ResearchBatch.package_wrapped_key)
        ).all(),
    ]


def _ledger(store: S3ObjectStore) -> list[tuple[str, str]]:
    return sorted((version.key, version.version_id) for version in store.list_versions(HOLDS))


def test_after_a_rewrap_the_old_key_leaves_the_keyset_and_everything_still_opens(
    old: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _store_everything(old)
    old_id = old.envelope.master_key_id
    new_key = rotated(old.settings.master_key)
    rotated_runtime = _with_keys(old, new_key)
    new_id = rotated_runtime.envelope.master_key_id
    run = _cli(monkeypatch, rotated_runtime)
    with old.sessions() as session:
        before = _wrapped_columns(session)
    ledger_before = _ledger(old.store)

    status_before = run("keys", "status")
    dry = run("keys", "rewrap", "--dry-run")
    with old.sessions() as session:
        after_dry_run = _wrapped_columns(session)
    rewrapped = run("keys", "rewrap", "--batch", "2")
    again = run("keys", "rewrap")  # resumable: nothing is left
    status_after = run("keys", "status")

    retired = _with_keys(old, only_primary(new_key))
    retired.check_keys()  # a process's start: the keyset without the old key holds every key the data needs
    envelope = retired.envelope
    assert status_before.exit_code == 0, status_before.output
    assert status_before.stdout.splitlines()[0] == "key_id\tprimary\tin_keyset\twhat\tcount"
    assert sorted(_status_rows(status_before)) == sorted(
        [
            [str(old_id), "no", "yes", what, count]
            for what, count in (
                ("calls", "3"),
                ("second factors", "1"),
                ("second factors (disabled accounts)", "1"),
                ("training secrets", "1"),
                ("research pseudonym keys", "1"),
                ("research packages", "1"),
                ("legal hold reasons (ledger)", "1"),
            )
        ]
        + [[str(new_id), "yes", "yes", "-", "0"]]
    )
    assert status_before.stdout.splitlines()[-1] == "removable from the keyset: none"
    assert dry.exit_code == 0 and "rewrapped=9 unopened=0" in dry.stdout and "dry run" in dry.stdout, dry.output
    assert after_dry_run == before
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "rewrapped=9 unopened=0 changed=0" in rewrapped.stdout
    assert f"rewrapped\tcalls\t{old_id}\t3" in rewrapped.stdout
    assert "rewrapped 2" in rewrapped.stderr  # progress, a batch at a time
    assert again.exit_code == 0 and "rewrapped=0 unopened=0" in again.stdout, again.output
    assert status_after.stdout.splitlines()[-1] == f"removable from the keyset: {old_id}", status_after.output
    assert {row[0] for row in _status_rows(status_after)} == {str(new_id), str(old_id)}
    with retired.sessions() as session:
        for call in session.scalars(select(Recording)):
            assert call.master_key_id == new_id
            plain = envelope.decrypting_stream(
                retired.store.get(call.storage_key), wrapped=call.wrapped_data_key, object_id=call.id
            )
            assert hashlib.sha256(plain.read()).hexdigest() == stored.calls[call.id]
        active = session.get(User, stored.active[0])
        assert active is not None
        code = pyotp.TOTP(stored.active[1], interval=mfa.TOTP_STEP_S).now()
        assert mfa.check_totp_login(session, envelope, user=active, code=code, ip=None)
        disabled = session.get(User, stored.disabled[0])
        assert disabled is not None and mfa.totp_seed(envelope, disabled) == stored.disabled[1]
        assert agent_names(session, envelope, show_agents=False)("agent-7") == stored.agent
        batch = session.get(ResearchBatch, stored.batch_id)
        assert batch is not None and batch.package_key is not None and batch.package_wrapped_key is not None
        assert batch.package_master_key_id == batch.pseudonym_master_key_id == new_id
        package = envelope.decrypting_stream(
            retired.store.get(batch.package_key), wrapped=batch.package_wrapped_key, object_id=batch.id
        )
        assert package.read() == PACKAGE
        assert batch.pseudonym_key is not None
        assert envelope.open_secret(batch.pseudonym_key, object_id=batch.id)
        audited = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "keys.rewrapped")).all()
    assert {"what": "calls", "from_key_id": old_id, "to_key_id": new_id, "count": 2} in audited
    # The ledger's reasons too (the review of the docs: rewritten in the store without an event).
    assert {"what": HOLD_REASONS, "from_key_id": old_id, "to_key_id": new_id, "count": 1} in audited
    entry = recorded_holds(retired.store)[stored.hold_id]
    sealed = base64.b64decode(entry["reason"])
    assert envelope.sealed_under(sealed) == new_id
    assert envelope.open_secret(sealed, object_id=f"legal_hold/{stored.hold_id}/reason").decode() == REASON
    # The entry rewritten under its own name, its version sealed under the old key deleted.
    assert [key for key, _ in _ledger(retired.store)] == [key for key, _ in ledger_before]
    assert _ledger(retired.store) != ledger_before


def test_a_key_shredded_while_the_rewrap_ran_stays_shredded(old: Runtime) -> None:
    stored = _store_everything(old)
    rotated_runtime = _with_keys(old, rotated(old.settings.master_key))
    shredded, kept = sorted(stored.calls)[:2]
    with rotated_runtime.sessions() as session:
        read = read_batch(session, rotated_runtime.envelope, "calls", after=None, limit=10)
    with old.sessions() as session:  # an erasure commits between the rewrap's read and its write
        session.execute(update(Recording).where(Recording.id == shredded).values(wrapped_data_key=b""))
        session.commit()

    with rotated_runtime.sessions() as session:
        done = rewrap(session, rotated_runtime.envelope, read.rows, actor=cli_support.CLI_ACTOR, dry_run=False)
        session.commit()

    with old.sessions() as session:
        gone = session.get(Recording, shredded)
        assert gone is not None and gone.wrapped_data_key == b""
        assert gone.master_key_id == old.envelope.master_key_id
        other = session.get(Recording, kept)
        assert other is not None and other.master_key_id == rotated_runtime.envelope.master_key_id
    assert done.changed == 1 and sum(done.rewrapped.values()) == 2


def test_what_a_key_the_keyset_lacks_wrapped_is_left_and_named_with_exit_1(
    old: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = Envelope(generate_master_key())
    with old.sessions() as session:
        make_recording(session, old.store, foreign)
        make_recording(session, old.store, old.envelope)
        session.commit()
    rotated_runtime = _with_keys(old, rotated(old.settings.master_key))
    with pytest.raises(ForeignMasterKey):
        rotated_runtime.check_keys()
    run = _cli(monkeypatch, rotated_runtime)

    status = run("keys", "status")
    result = run("keys", "rewrap")

    assert status.exit_code == 0, status.output
    assert [str(foreign.master_key_id), "no", "no", "calls", "1"] in _status_rows(status)
    assert result.exit_code == 1, result.output
    assert f"unopened\tcalls\t{foreign.master_key_id}\t1" in result.stdout
    assert "rewrapped=1 unopened=1" in result.stdout
    assert f"key id {foreign.master_key_id} (1, not in the keyset)" in result.stderr


def _reasons_sealed_under(runtime: Runtime) -> list[int | None]:
    """The master key ids of the hold reasons in every stored version of the ledger, current or not."""
    client = make_client(runtime.settings)
    sealed_under = []
    for version in runtime.store.list_versions(HOLDS):
        body = client.get_object(Bucket=runtime.store.bucket, Key=version.key, VersionId=version.version_id)["Body"]
        sealed_under.append(runtime.envelope.sealed_under(base64.b64decode(json.load(body)["reason"])))
    return sealed_under


def test_a_rewrap_interrupted_before_an_old_ledger_version_was_deleted_deletes_it_when_run_again(
    old: Runtime, own_bucket: S3ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failing between the entry's rewrite and the deletion of its old version: run again, the rewrap
    found the entry under the primary key already and left the version the retired key opens in the store for good,
    while `keys status` named that key removable."""
    stored = _store_everything(old)
    rotated_runtime = _with_keys(old, rotated(old.settings.master_key))
    new_id = rotated_runtime.envelope.master_key_id
    run = _cli(monkeypatch, rotated_runtime)
    delete_versions, failures = own_bucket.delete_versions, [Unavailable("the store went away")]

    def failing_once(versions: Iterable[tuple[str, str]]) -> int:
        if failures:
            raise failures.pop()
        return delete_versions(versions)

    monkeypatch.setattr(own_bucket, "delete_versions", failing_once)

    interrupted = run("keys", "rewrap")
    again = run("keys", "rewrap")

    assert interrupted.exit_code != 0 and not failures
    assert again.exit_code == 0, again.output
    assert _reasons_sealed_under(rotated_runtime) == [new_id]
    assert recorded_holds(own_bucket)[stored.hold_id]["hold_id"] == stored.hold_id


def test_a_rewrap_in_a_bucket_without_versioning_keeps_the_ledger_entry(
    runtime: Runtime, own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket keeping one version a key (`null`: an external store's bucket made without versioning): the entry
    rewritten replaced that version, and the rewrap then deleted the version it had listed before by its id, `null`,
    which was now the new entry: the hold was gone from the ledger, and a restore no longer kept its call."""
    client = make_client(runtime.settings)
    bucket = S3ObjectStore(client, "keys-" + secrets.token_hex(4))
    client.create_bucket(Bucket=bucket.bucket)  # not `ensure_bucket`, which turns versioning on
    old = replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine), store=bucket)
    try:
        stored = _store_everything(old)
        rotated_runtime = _with_keys(old, rotated(old.settings.master_key))
        run = _cli(monkeypatch, rotated_runtime)

        rewrapped = run("keys", "rewrap")

        assert rewrapped.exit_code == 0, rewrapped.output
        entry = recorded_holds(bucket).get(stored.hold_id)
        assert entry is not None, "the hold's entry is gone from the ledger"
        sealed = base64.b64decode(entry["reason"])
        assert rotated_runtime.envelope.sealed_under(sealed) == rotated_runtime.envelope.master_key_id
    finally:
        bucket.delete_versions((version.key, version.version_id) for version in bucket.list_versions(""))
