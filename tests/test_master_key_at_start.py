"""A process whose `CALLVAULT_MASTER_KEY` does not open the stored calls' data keys refuses to start, naming it.

Found by the backup drill: restored with another master key in the environment (a new host's settings), or with
`secrets.env` missing (`callvault run` then generates a new key), the service started and reported ready; every
stored call then failed to decrypt, which the integrity check reports as tampering, and new calls were sealed under
a key the old ones do not share."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_sessionmaker
from recordings_service.models import TrainingSecret
from recordings_service.runtime import ForeignMasterKey, Runtime
from recordings_service.storage.embedded import ensure_secrets
from recordings_service.storage.encryption import Envelope, generate_master_key
from recordings_service.storage.object_store import S3ObjectStore
from tests.callvault_process import BIN, callvault_env
from tests.factories.accounts import make_enrolled_user
from tests.factories.keysets import only_primary, rotated
from tests.factories.recordings import make_recording
from tests.live_server import free_port
from web import cli, cli_support


def test_only_the_master_key_the_calls_were_stored_with_may_start(runtime: Runtime) -> None:
    runtime.check_keys()  # nothing stored yet: any key will do
    with runtime.sessions() as session:
        make_recording(session, runtime.store, runtime.envelope)
        session.commit()
    runtime.check_keys()

    other = Envelope(generate_master_key())
    with pytest.raises(ForeignMasterKey) as refused:
        replace(runtime, envelope=other).check_keys()

    said = str(refused.value)
    assert f"primary key id {other.master_key_id}" in said and f"key id {runtime.envelope.master_key_id}" in said
    assert runtime.settings.master_key not in said


def test_a_keyset_that_lost_a_key_older_calls_were_stored_under_may_not_start(
    runtime: Runtime, own_engine: Engine
) -> None:
    """Found by an operator's pass: after a rotation, with a call stored under the new key, a keyset left with the
    new key only was taken (the newest call opened), the older calls then did not play and the weekly integrity
    check audited each as tampered with. (A database of the test's own: it counts every call stored.)"""
    runtime = replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine))
    with runtime.sessions() as session:
        for _ in range(2):
            make_recording(session, runtime.store, runtime.envelope)
        session.commit()
    rotated_key = rotated(runtime.settings.master_key)
    after_rotation = replace(runtime, envelope=Envelope(rotated_key))
    with after_rotation.sessions() as session:
        make_recording(session, after_rotation.store, after_rotation.envelope)
        session.commit()
    after_rotation.check_keys()  # the rotated keyset keeps the old key: it may start

    new_only = Envelope(only_primary(rotated_key))
    with pytest.raises(ForeignMasterKey) as refused:
        replace(runtime, envelope=new_only).check_keys()

    said = str(refused.value)
    assert f"key id {runtime.envelope.master_key_id} (2 calls)" in said, said
    assert f"key ids {new_only.master_key_id})" in said and rotated_key not in said


def test_a_keyset_that_lost_the_key_of_another_sealed_secret_may_not_start(
    runtime: Runtime, own_engine: Engine
) -> None:
    """A review: the check above looked at the calls' data keys only; the training library's pseudonym key (and the
    research and access packages' keys) sealed under the old key went unreadable the same way."""
    runtime = replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine))
    with runtime.sessions() as session:
        sealed = runtime.envelope.seal_secret(b"the agents' pseudonym key", object_id="training")
        session.add(TrainingSecret(name="agents", sealed=sealed.wrapped, master_key_id=sealed.master_key_id))
        session.commit()
    new_only = Envelope(only_primary(rotated(runtime.settings.master_key)))
    with replace(runtime, envelope=new_only).sessions() as session:
        make_recording(session, runtime.store, new_only)  # the calls are all under the new key
        session.commit()

    with pytest.raises(ForeignMasterKey) as refused:
        replace(runtime, envelope=new_only).check_keys()

    assert f"key id {runtime.envelope.master_key_id} (1 training secrets)" in str(refused.value)


def test_a_keyset_that_lost_the_key_of_enrolled_second_factors_may_not_start(
    runtime: Runtime, own_engine: Engine
) -> None:
    """Found by an operator's pass: TOTP seeds are sealed without a key id beside them, so the check above did not
    cover them, and returned before looking when no call was stored. A keyset without the key the staff enrolled
    under was taken, and then nobody enrolled before the rotation could sign in (admins included)."""
    runtime = replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine))
    with runtime.sessions() as session:
        for _ in range(2):
            make_enrolled_user(session, runtime.envelope)
        session.commit()
    rotated_key = rotated(runtime.settings.master_key)
    new_only = replace(runtime, envelope=Envelope(only_primary(rotated_key)))

    with pytest.raises(ForeignMasterKey) as before_any_call:
        new_only.check_keys()
    with new_only.sessions() as session:
        make_enrolled_user(session, new_only.envelope)  # enrolled after the rotation: opens
        make_recording(session, runtime.store, new_only.envelope)
        session.commit()
    with pytest.raises(ForeignMasterKey) as with_calls:
        new_only.check_keys()

    for refused in (before_any_call, with_calls):
        assert f"key id {runtime.envelope.master_key_id} (2 second factors)" in str(refused.value)
    replace(runtime, envelope=Envelope(rotated_key)).check_keys()  # keeping the old key, it may


def test_second_factors_a_lost_key_sealed_can_be_reset_and_disabled_accounts_do_not_count(
    runtime: Runtime, own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: with the old key lost for good, the check above refused every process and command, `users reset-mfa`
    too, the one way out (the holders enrol again); and one former employee's seed blocked the whole service."""
    runtime = replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine))
    with runtime.sessions() as session:
        enrolled, _ = make_enrolled_user(session, runtime.envelope)
        departed, _ = make_enrolled_user(session, runtime.envelope)
        departed.active = False
        session.commit()
    new_only = replace(runtime, envelope=Envelope(only_primary(rotated(runtime.settings.master_key))))

    with pytest.raises(ForeignMasterKey) as refused:
        new_only.check_keys()
    new_only.check_keys(second_factors=False)  # what `users reset-mfa` runs with
    seen: dict[str, object] = {}
    monkeypatch.setattr(cli_support, "load_runtime", lambda **given: (seen.update(given), new_only)[1])
    reset = CliRunner().invoke(cli.main, ["users", "reset-mfa", enrolled.username])
    new_only.check_keys()  # the active account's seed is gone; the disabled one's does not count

    said = str(refused.value)
    assert f"key id {runtime.envelope.master_key_id} (1 second factors)" in said and "reset-mfa" in said, said
    assert reset.exit_code == 0 and seen == {"second_factors": False}, reset.output


def test_the_jobs_process_with_another_master_key_does_not_start(tmp_path: Path, store: S3ObjectStore) -> None:
    data_dir = tmp_path / "var"
    ensure_secrets(data_dir)
    runtime = Runtime.from_settings(Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir)}))
    schema.upgrade(runtime.engine)
    with runtime.sessions() as session:
        make_recording(session, store, runtime.envelope)  # the row is what is checked; the object is the tests' store's
        session.commit()
    runtime.engine.dispose()
    env = callvault_env(data_dir, free_port(), free_port(), master_key=generate_master_key())

    started = subprocess.run(
        [sys.executable, "-m", "jobs"], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert started.returncode == 1, started.stdout + started.stderr
    assert "does not open the data keys of the calls in this database" in started.stdout + started.stderr


def test_run_beside_a_database_whose_secrets_file_is_gone_refuses_to_make_new_keys(tmp_path: Path) -> None:
    """Found by the backup drill: with `secrets.env` lost, `callvault run` generated new keys into a new one and then
    refused naming the audit key only; the master key it generated opened none of the stored calls."""
    data_dir = tmp_path / "var"
    ensure_secrets(data_dir)
    runtime = Runtime.from_settings(Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir)}))
    schema.upgrade(runtime.engine)
    runtime.engine.dispose()
    (data_dir / "secrets.env").unlink()
    env = callvault_env(data_dir, free_port(), free_port())

    started = subprocess.run(
        [str(BIN / "callvault"), "run", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    said = started.stdout + started.stderr
    assert started.returncode == 1 and "CALLVAULT_MASTER_KEY and CALLVAULT_AUDIT_KEY are neither in" in said, said
    assert not (data_dir / "secrets.env").exists()
