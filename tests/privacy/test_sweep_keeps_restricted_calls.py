"""The retention sweep keeps a restricted call (GDPR Art. 18) past its retention date while the restriction is in
force, as it keeps a held one, and says so (`kept_restricted`); once the restriction is lifted the next sweep deletes
it.

Found by a probe: the sweep deleted every call past `retain_until` unless it was on legal hold, so a customer who had
asked for their calls to be restricted rather than erased (Art. 18(1)(b)), or kept for a legal claim (18(1)(c)), lost
them at the end of the retention period while the restriction was in force, which allows them nothing but storage
(and erasure is processing, Art. 4(2)). The customer's own erasure still deletes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep, sweep_retention
from recordings_service.db import utcnow
from recordings_service.models import DeletionReceipt, Recording, SubjectRequest, Tombstone
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy import holds, restriction, retention, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, runtime_on_bucket  # noqa: F401  (fixture)
from web import cli, cli_support

LONG_AGO = datetime.now(UTC) - timedelta(days=800)  # past the 12 months `training` keeps a call


@pytest.fixture
def run(runtime: Runtime, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI with the test's database and the privacy bucket."""
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli.main, list(args))

    return invoke


def restricted_call(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> tuple[Recording, SubjectRequest]:
    """A call past its retention date whose customer's restriction of processing is in force, and that restriction."""
    person = customer(session)
    call = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"], customer_id=person.id)
    request = restrict(session, person.customer_ref)
    assert call.retain_until is not None and call.retain_until < utcnow()
    return call, request


def restrict(session: Session, customer_ref: str) -> SubjectRequest:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="restriction", received_at=utcnow()
    )
    restriction.restrict_processing(session, actor=OFFICER, request_id=request.id)
    session.flush()
    return request


def deleted(session: Session, recording_id: str) -> bool:
    status = session.scalars(select(Recording.status).where(Recording.id == recording_id)).one()
    return status == RecordingStatus.DELETED


def customer_ref(call: Recording) -> str:
    assert call.customer is not None
    return call.customer.customer_ref


def test_a_restricted_call_past_retention_survives_the_sweep_and_is_said_kept(  # type: ignore[no-untyped-def]
    run, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    call, _ = restricted_call(session, bucket, envelope)
    expired = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])

    # Not overdue: `retention check` finds nothing against the proof, as for a held call.
    before = run("retention", "check")
    assert (before.exit_code, before.output) == (1, "overdue=1 orphans=0\n")
    dry = run("retention", "sweep", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert expired.id in dry.output and call.id not in dry.output
    assert "would delete recordings=1 orphans=0 kept_restricted=1" in dry.output

    swept = run("retention", "sweep")
    assert swept.exit_code == 0, swept.output
    assert "deleted recordings=1 orphans=0" in swept.output and "kept_restricted=1" in swept.output
    assert "failed" not in swept.output and "skipped" not in swept.output
    assert swept.output.endswith("overdue=0 orphans=0\n")
    assert not deleted(session, call.id) and deleted(session, expired.id)
    assert session.get(Tombstone, call.id) is None
    receipt = session.scalars(select(DeletionReceipt).order_by(DeletionReceipt.id.desc()).limit(1)).one()
    assert receipt.counts["kept_restricted"] == 1 and receipt.recordings == 1


def test_after_the_lift_the_next_sweep_deletes_it(
    session: Session, sessions: sessionmaker[Session], runtime: Runtime
) -> None:
    call, request = restricted_call(session, runtime.store, runtime.envelope)
    # A second restriction of the customer: lifting the first leaves the call restricted, and kept.
    second = restrict(session, customer_ref(call))
    sweep_retention(runtime)  # the jobs process's daily run
    assert not deleted(session, call.id)

    restriction.lift_restriction(session, actor=OFFICER, request_id=request.id)
    session.flush()
    report = sweep(sessions, runtime.store, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)
    assert (report.recording_ids, report.counts["kept_restricted"]) == ([], 1)
    assert not deleted(session, call.id)

    restriction.lift_restriction(session, actor=OFFICER, request_id=second.id)
    session.flush()
    report = sweep(sessions, runtime.store, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)
    assert report.recording_ids == [call.id] and "kept_restricted" not in report.counts
    assert deleted(session, call.id)
    assert session.get_one(Tombstone, call.id).reason == "retention"


def test_a_held_call_is_kept_as_before_and_not_counted_as_restricted(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    held = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=held.id)
    both, _ = restricted_call(session, bucket, envelope)
    holds.place_hold(session, actor=OFFICER, reason="complaint", recording_id=both.id)
    session.flush()

    report = sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)
    assert report.recording_ids == [] and "kept_restricted" not in report.counts
    assert not deleted(session, held.id) and not deleted(session, both.id)


def test_the_customers_erasure_still_deletes_a_restricted_call_once_its_duty_ends(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    call, _ = restricted_call(session, bucket, envelope)
    hold = holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=call.id).hold
    erasure = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref(call), kind="erasure", received_at=utcnow()
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=erasure.id, answer=Answer(), zone=ORG_ZONE)
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    session.flush()

    report = sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)
    assert report.recording_ids == [call.id] and "kept_restricted" not in report.counts
    assert session.get_one(Tombstone, call.id).reason == "erasure"


def test_the_dashboard_and_a_policy_preview_do_not_count_it_as_due(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    restricted_call(session, bucket, envelope)
    aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    recent, _ = restricted_call(session, bucket, envelope)
    recent.started_at = utcnow() - timedelta(days=270)  # past 6 months, within 12
    recent.retain_until = utcnow() + timedelta(days=95)
    session.commit()

    preview = retention.preview_policy_change(session, rule="training", keep=6, unit="months", zone=ORG_ZONE)
    assert (preview.affected, preview.due_now) == (3, 1)  # the restricted ones, due now, the next sweep would keep
    login(client, make_user(session, role=Role.COMPLIANCE))
    dashboard = client.get("/dashboard").get_data(as_text=True)
    figures = dashboard.split("<dt>Overdue now</dt><dd>", 1)[1]
    assert figures.startswith("1</dd>")
    assert "<dt>Past retention, kept by a restriction of processing</dt><dd>1</dd>" in dashboard
