"""`callvault retention sweep|check` on a scenario of mixed purposes, holds and ages; and compliance tokens."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs import retention as retention_job
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, Recording
from recordings_service.models.account import Role
from recordings_service.privacy import holds, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.factories.accounts import make_user
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer
from tests.live_server import free_port
from web import cli, cli_support

AGES_DAYS = [5, 200, 400, 800, 1200, 4000]
MIXES: list[tuple[list[str], bool | None]] = [
    (["verification"], True),
    (["verification"], False),
    (["verification"], None),
    ([], None),
    (["training"], None),
    (["quality_study"], None),
    (["training", "quality_study"], None),
    (["verification", "training"], True),
]


@pytest.fixture
def run(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    monkeypatch: pytest.MonkeyPatch,
):  # type: ignore[no-untyped-def]
    """Invoke the CLI with the test's database and the privacy bucket."""
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions, store=bucket, envelope=envelope)
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli.main, list(args))

    return invoke


def scenario(session: Session, bucket: S3ObjectStore, envelope: Envelope, *, size: int, seed: int) -> dict[str, int]:
    """`size` calls of every age and purpose mix; a tenth of the customers and some single calls on hold. Up to 100
    calls have derivatives (waveform versions and a clip): three more puts a call were most of the large
    scenario's time, and a hundred already show the sweep deleting every version of them."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    customers = [customer(session) for _ in range(max(size // 10, 2))]
    held_customers = customers[: max(len(customers) // 10, 1)]
    calls = []
    for index in range(size):
        purposes, agreement = MIXES[index % len(MIXES)]
        owner = rng.choice(customers)
        calls.append(
            aged_call(
                session,
                bucket,
                envelope,
                started_at=now - timedelta(days=rng.choice(AGES_DAYS), minutes=index),
                purposes=purposes,
                agreement_made=agreement,
                customer_id=owner.id,
                derived=index % max(size // 100, 1) == 0,
            )
        )
    for held in held_customers:
        holds.place_hold(session, actor=OFFICER, reason="dispute", customer_ref=held.customer_ref)
    for call in rng.sample(calls, max(size // 20, 1)):
        holds.place_hold(session, actor=OFFICER, reason="complaint", recording_id=call.id)
    session.flush()
    held = sum(1 for call in calls if call.legal_hold)
    due = sum(1 for call in calls if call.retain_until is not None and call.retain_until < now and not call.legal_hold)
    return {"calls": size, "held": held, "due": due}


def check_and_sweep(run, session: Session, counts: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    before = run("retention", "check")
    assert before.exit_code == 1
    assert before.output == f"overdue={counts['due']} orphans=0\n"

    dry = run("retention", "sweep", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("recording ") == counts["due"]
    # Found by a backfill pass: it listed bare ids, which said nothing of the calls to whoever reviews a sweep.
    listed = [line for line in dry.output.splitlines() if line.startswith("recording ")]
    due = dict(
        session.execute(
            select(Recording.id, Recording.retain_until).where(Recording.retain_until < utcnow(), ~Recording.legal_hold)
        ).all()
    )
    for line in listed:
        recording_id, started, until, reason = line.removeprefix("recording ").split(" ")
        assert until == f"retain_until={due[recording_id].astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        assert started.startswith("started=") and reason == "reason=retention"
    assert f"would delete recordings={counts['due']} orphans=0" in dry.output
    # Found by a backfill pass: the dry run printed object_versions=0, the sweep of the same calls 10 for 5 calls.
    assert "object_versions" not in dry.output

    swept = run("retention", "sweep", "--batch", "7")
    assert swept.exit_code == 0, swept.output
    assert f"deleted recordings={counts['due']} orphans=0" in swept.output and "receipt " in swept.output

    after = run("retention", "check")
    assert (after.exit_code, after.output) == (0, "overdue=0 orphans=0\n")
    assert (
        session.scalar(select(func.count()).select_from(Recording).where(Recording.status == "deleted"))
        == (counts["due"])
    )
    held_and_deleted = (
        select(func.count()).select_from(Recording).where(Recording.status == "deleted", Recording.legal_hold.is_(True))
    )
    assert session.scalar(held_and_deleted) == 0
    deleted_events = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "recording.deleted")
    assert session.scalar(deleted_events) == counts["due"]


def test_check_fails_until_the_sweep_has_run_then_passes(  # type: ignore[no-untyped-def]
    run, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    counts = scenario(session, bucket, envelope, size=40, seed=11)
    assert 0 < counts["due"] < counts["calls"] and counts["held"] > 0
    check_and_sweep(run, session, counts)


@pytest.mark.slow
def test_the_1000_recording_scenario_ends_clean(  # type: ignore[no-untyped-def]
    run, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    counts = scenario(session, bucket, envelope, size=1000, seed=1000)
    check_and_sweep(run, session, counts)


def test_tokens_create_gives_compliance_tokens_30_days_at_most(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    make_user(session, role=Role.COMPLIANCE, username="dpo")
    created = run("tokens", "create", "dpo", "--scope", "compliance")
    assert created.exit_code == 0, created.output
    too_long = run("tokens", "create", "dpo", "--scope", "compliance", "--days", "31")
    assert too_long.exit_code == 1
    assert "lifetime: a compliance token lives at most 30 days" in too_long.output


@pytest.mark.parametrize("userinfo", ["", "keeper:S3cr3t-pw@"], ids=["plain", "credentials"])
def test_an_unreachable_store_is_a_one_line_error_not_a_traceback(  # type: ignore[no-untyped-def]
    run, settings: Settings, monkeypatch: pytest.MonkeyPatch, runtime: Runtime, userinfo: str
) -> None:
    """Found by exploratory testing: `retention check` against a store that was not running printed a
    hundred-line botocore traceback; then a line that did not say where the store was looked for; then, for an
    endpoint carrying credentials (`http://user:password@host`), the credentials with the address."""
    closed_port = free_port()  # nothing listens there once the probe is closed
    nowhere = replace(settings, s3_endpoint=f"http://{userinfo}127.0.0.1:{closed_port}")
    unreachable = replace(runtime, store=S3ObjectStore(make_client(nowhere), settings.s3_bucket))
    monkeypatch.setattr(cli_support, "load_runtime", lambda: unreachable)
    checked = run("retention", "check")
    assert checked.exit_code == 1
    assert checked.output == (
        f"Error: object store unreachable: EndpointConnectionError at http://127.0.0.1:{closed_port}"
        " (the embedded store runs with `callvault run`: start it first; or set CALLVAULT_S3_ENDPOINT,"
        " or CALLVAULT_S3_PORT for the embedded store)\n"
    )
    # With an external store set, starting `callvault run` is no fix: the hint asks about that store.
    monkeypatch.setenv("CALLVAULT_S3_ENDPOINT", nowhere.s3_endpoint)
    external = run("retention", "check")
    assert external.exit_code == 1
    assert external.output.endswith("(is the store up, and CALLVAULT_S3_ENDPOINT its address?)\n"), external.output


def test_a_sweep_that_could_not_delete_a_due_recording_exits_1(  # type: ignore[no-untyped-def]
    run, session: Session, bucket: S3ObjectStore, envelope: Envelope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It printed `failed=1` and `overdue=1` and exited 0: a cron job or a runbook took the sweep for done."""
    counts = scenario(session, bucket, envelope, size=12, seed=3)
    assert counts["due"] >= 2
    doomed = session.scalars(select(Recording.id).where(Recording.retain_until <= utcnow(), ~Recording.legal_hold))
    stuck = sorted(doomed)[0]
    deleting = retention_job.delete_due

    def refusing(session: Session, *, recording_ids: list[str], **kwargs: object) -> object:
        if stuck in recording_ids:
            raise RuntimeError("a row in a table the deletion does not know")
        return deleting(session, recording_ids=recording_ids, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retention_job, "delete_due", refusing)

    swept = run("retention", "sweep")

    assert swept.exit_code == 1, swept.output
    assert "failed=1" in swept.output and "overdue=1 " in swept.output
    monkeypatch.setattr(retention_job, "delete_due", deleting)
    assert run("retention", "sweep").exit_code == 0  # tried again on the next run


def test_a_dry_run_names_the_erasure_a_due_call_was_kept_for(  # type: ignore[no-untyped-def]
    run, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = aged_call(
        session,
        bucket,
        envelope,
        started_at=utcnow() - timedelta(days=10),
        purposes=["training"],
        customer_id=person.id,
    )
    hold = holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=call.id).hold
    now = utcnow()
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=now, now=now
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    session.flush()

    dry = run("retention", "sweep", "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert f"recording {call.id} started=" in dry.output
    assert f" reason=erasure request={request.id}\n" in dry.output
