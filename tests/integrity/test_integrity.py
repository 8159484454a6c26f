"""The integrity check against the real embedded SeaweedFS: re-hash originals, report each damaged or missing one."""

from __future__ import annotations

import io
from typing import BinaryIO

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.integrity import INTEGRITY_ACTOR, check_originals
from recordings_service import integrity
from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.models import AuditEvent, IntegrityCheckRun, Recording
from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording, purge_objects
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.factories.accounts import login, make_user
from tests.factories.recordings import MONO, make_recording
from web import cli, cli_support


@pytest.fixture
def check(runtime: Runtime, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`callvault integrity check` with the test runtime (its commit stays inside the test's transaction)."""
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli.main, ["integrity", "check", *args])

    return invoke


def findings(session: Session, recording_id: str) -> list[str]:
    query = select(AuditEvent.action).where(
        AuditEvent.object_id == recording_id, AuditEvent.action.like("recording.integrity_%")
    )
    return list(session.scalars(query))


def live_count(session: Session) -> int:
    return len(session.scalars(select(Recording.id).where(Recording.status != "deleted")).all())


def test_intact_originals_pass_and_the_run_is_recorded(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    check,  # type: ignore[no-untyped-def]
) -> None:
    calls = [make_recording(session, store, envelope) for _ in range(3)]
    result = check()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"checked={live_count(session)} mismatched=0 missing=0"
    assert all(findings(session, call.id) == [] for call in calls)
    run = session.scalars(select(IntegrityCheckRun).order_by(IntegrityCheckRun.finished_at.desc())).first()
    assert run is not None and (run.checked, run.mismatched, run.missing, run.actor) == (len(calls), 0, 0, "cli")


def test_overwritten_and_deleted_objects_are_named_audited_once_and_fail_the_run(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    check,  # type: ignore[no-untyped-def]
) -> None:
    good, garbage, replaced, deleted = (make_recording(session, store, envelope) for _ in range(4))
    # A new version under the same key: other bytes, and a valid ciphertext of another file under the same data key.
    store.put(garbage.storage_key, io.BytesIO(b"not the ciphertext that was stored" * 100))
    sealed = io.BytesIO()
    with MONO.open("rb") as other:
        envelope.encrypt_derived(
            other, _Unclosed(sealed), wrapped=replaced.wrapped_data_key, object_id=replaced.id, derived_id=replaced.id
        )
    sealed.seek(0)
    store.put(replaced.storage_key, sealed)
    store.delete(deleted.storage_key)

    result = check()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"checked={live_count(session)} mismatched=2 missing=1"
    assert f"mismatch {garbage.id} (decryption_failed)" in lines
    assert f"mismatch {replaced.id} (sha256_mismatch)" in lines
    assert f"missing {deleted.id} (object_missing)" in lines
    assert findings(session, good.id) == []
    assert findings(session, garbage.id) == ["recording.integrity_mismatch"]
    assert findings(session, replaced.id) == ["recording.integrity_mismatch"]
    assert findings(session, deleted.id) == ["recording.integrity_missing"]


def test_sample_checks_that_many_originals_at_random_showing_progress(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    check,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(3):
        make_recording(session, store, envelope)
    monkeypatch.setattr(integrity, "PROGRESS_EVERY", 1)  # a line on stderr for each original checked
    result = check("--sample", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "checked=2 mismatched=0 missing=0"
    assert result.stderr.splitlines() == ["checked 1, findings 0", "checked 2, findings 0"]
    assert check("--sample", "0").exit_code == 2


def test_the_integrity_job_is_scheduled_weekly() -> None:
    from jobs.schedule import JOBS

    assert next(job for job in JOBS if job.id == "integrity_check").seconds == 7 * 24 * 3600


def test_the_weekly_job_records_its_run_and_the_dashboard_shows_it(
    session: Session, store: S3ObjectStore, envelope: Envelope, runtime: Runtime, client: FlaskClient
) -> None:
    officer = make_user(session, role=Role.COMPLIANCE)
    login(client, officer)
    assert "No check recorded yet" in client.get("/dashboard").get_data(as_text=True)

    missing = make_recording(session, store, envelope)
    store.delete(missing.storage_key)
    check_originals(runtime)
    assert findings(session, missing.id) == ["recording.integrity_missing"]
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Integrity of originals" in page and "Every original, by integrity." in page
    figures = {
        label: page.split(f"<dt>{label}</dt><dd>", 1)[1].split("</dd>", 1)[0] for label in ("Missing", "Checked")
    }
    assert figures == {"Missing": "1", "Checked": str(live_count(session))}

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert "Integrity of originals" not in client.get("/dashboard").get_data(as_text=True)


def test_a_recording_deleted_while_the_check_runs_is_no_finding(
    session: Session, settings: Settings, store: S3ObjectStore, envelope: Envelope
) -> None:
    kept, swept = make_recording(session, store, envelope), make_recording(session, store, envelope)
    beside = _SweptDuringTheCheck(settings, store.bucket, session, swept)
    report = integrity.check_integrity(session, beside, envelope, actor=INTEGRITY_ACTOR)
    assert beside.swept and report.intact, report.findings
    assert findings(session, swept.id) == [] and findings(session, kept.id) == []


class _SweptDuringTheCheck(S3ObjectStore):
    """The store as a retention sweep beside the check leaves it: `recording` is deleted (row and objects) after
    the check has read its batch of rows, just before it fetches that recording's original."""

    def __init__(self, settings: Settings, bucket: str, session: Session, recording: Recording) -> None:
        super().__init__(make_client(settings), bucket)
        self.session, self.recording, self.swept = session, recording, False

    def get(self, key: str) -> BinaryIO:
        if key == self.recording.storage_key and not self.swept:
            self.swept = True
            sweeper = Actor(id=None, name="retention", role="system")
            deletion = delete_recording(
                self.session, self, recording_id=self.recording.id, reason="retention", actor=sweeper
            )
            assert deletion is not None
            purge_objects(self, deletion.keys)
        return super().get(key)


class _Unclosed(io.BytesIO):
    """Tink closes the stream it encrypts into; keep the bytes readable afterwards."""

    def __init__(self, target: io.BytesIO) -> None:
        super().__init__()
        self._target = target

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        return self._target.write(data)

    def close(self) -> None:
        pass
