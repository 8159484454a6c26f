"""The jobs process killed (`kill -9`) at seeded random points of the retention sweep, then run again: the final
state equals one clean run on the same seed data, and each recording's deletion is audited once.

Two worlds (bucket and database each; PostgreSQL when it is reachable) get the same 60 calls under the same ids:
36 due (six of them reviewed: transcript, comment, evaluation text), 6 due but held (by customer or alone),
6 kept by an agreement and 12 not due yet; each with its original, two waveform versions and a clip. One world
is swept once by a clean jobs process; in the other, jobs processes sweeping in batches of 2 are each killed at a
seeded step (SWEEP_STEPS in pause_points.py) of a seeded batch, the next one starting on what the last left.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from recordings_service.config import Settings
from recordings_service.db import new_id, utcnow
from recordings_service.models import (
    Annotation,
    AuditEvent,
    DeletionReceipt,
    Evaluation,
    Recording,
    Tombstone,
    Transcript,
)
from recordings_service.privacy import holds
from recordings_service.privacy.deletion import object_prefixes, versions_under
from recordings_service.privacy.sweep import count_overdue
from tests.factories.privacy import OFFICER, aged_call, customer, reviewed
from tests.faults.gunicorn_pause import CONTROL_ENV
from tests.faults.job_worker import SWEEP_BATCH_ENV
from tests.faults.kills import database_kind, run_job, strike
from tests.faults.pause_points import SWEEP_STEPS
from tests.faults.support import World, fault_world, retention_check
from tests.live_server import settings_env

pytestmark = pytest.mark.slow

SEED = 16
KILLS = 20
MAX_STARTS = 40
BATCH = 2
DUE, HELD, AGREED, RECENT = 36, 6, 6, 12
ONCE_A_RUN = ("receipt", "proved")


def next_point(rng: random.Random, killed: World) -> tuple[str, str]:
    """A random step of a random one of the next batches (`step@N`); once nothing is due any more, a step every
    run still meets (its pending objects, its receipt, its proof) rather than a batch's, which it never reaches."""
    with killed.runtime.sessions() as session:
        overdue = count_overdue(session, now=utcnow())
    if overdue:
        step = rng.choice([step for step in SWEEP_STEPS if step not in ONCE_A_RUN])
        return step, f"{step}@{rng.randint(1, 2)}"
    step = rng.choice(["objects_half", "marked", *ONCE_A_RUN])
    return step, f"{step}@1"


def test_jobs_killed_at_random_points_of_the_retention_sweep_end_as_one_clean_run(
    base_settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    ids = [new_id() for _ in range(DUE + HELD + AGREED + RECENT)]
    kind = database_kind()
    control = tmp_path / "control"
    control.mkdir()
    (tmp_path / "clean").mkdir()
    (tmp_path / "killed").mkdir()
    with (
        fault_world(base_settings, tmp_path / "clean", database=kind) as clean,
        fault_world(base_settings, tmp_path / "killed", database=kind) as killed,
    ):
        seeded_at = utcnow()
        for world in (clean, killed):
            _seed(world, ids, now=seeded_at)
        clean_env = settings_env(clean.settings) | {SWEEP_BATCH_ENV: str(BATCH)}
        assert run_job("sweep", clean_env, log=control / "clean.log").wait(timeout=120) == 0
        expected = _state(clean)
        assert Counter(expected["statuses"].values()) == {"deleted": DUE, "stored": HELD + AGREED + RECENT}

        env = settings_env(killed.settings) | {CONTROL_ENV: str(control), SWEEP_BATCH_ENV: str(BATCH)}
        struck: list[str] = []
        starts = 0
        while len(struck) < KILLS and starts < MAX_STARTS:
            step, armed = next_point(rng, killed)
            starts += 1
            if strike(control, "sweep", env, armed):
                struck.append(step)
        assert len(struck) == KILLS, f"only {len(struck)} kills in {starts} starts"
        assert run_job("sweep", env, log=control / "sweep.log").wait(timeout=120) == 0

        final = _state(killed)
        assert final == expected
        deleted = sorted(id_ for id_, status in final["statuses"].items() if status == "deleted")
        assert {id_: final["audit"][("recording.deleted", id_)] for id_ in deleted} == dict.fromkeys(deleted, 1)
        assert all(final["versions"][id_] == 0 for id_ in deleted)  # no object version of a deleted call left
        with killed.runtime.sessions() as session:
            runs = session.scalar(select(func.count()).select_from(DeletionReceipt)) or 0
            receipted = session.scalar(select(func.sum(DeletionReceipt.recordings))) or 0
            unnamed = session.scalar(select(func.count()).where(Tombstone.in_receipt.is_(False))) or 0
        # A run killed after its deletions committed but before its receipt: the next run's receipt names them.
        assert (receipted, unnamed) == (DUE, 0)
        retention_check(killed)
    print(
        f"{kind}: {len(struck)} kills in {starts} starts "
        f"({', '.join(f'{s}={struck.count(s)}' for s in SWEEP_STEPS)}), {DUE} of {len(ids)} calls deleted in "
        f"batches of {BATCH}: rows, tombstones, objects and audit events equal to the clean run's; {runs} receipts "
        f"name each of the {DUE} deletions once; retention check overdue=0 orphans=0"
    )


def _seed(world: World, ids: list[str], *, now: datetime) -> None:
    """The same calls under the same ids and times in each world."""
    runtime = world.runtime
    long_ago = now - timedelta(days=800)  # past 12 months, within 36
    calls = iter(ids)
    with runtime.sessions() as session:

        def call(**kwargs: Any) -> Recording:
            return aged_call(session, runtime.store, runtime.envelope, id=next(calls), **kwargs)

        for index in range(DUE):
            due = call(started_at=long_ago, purposes=["training"])
            if index % 6 == 0:
                reviewed(session, due)
        disputed = customer(session, "cust-disputed")
        for index in range(HELD):
            held = call(started_at=long_ago, purposes=[], customer_id=disputed.id if index % 2 else None)
            if index % 2 == 0:
                holds.place_hold(session, actor=OFFICER, reason="complaint", recording_id=held.id)
        holds.place_hold(session, actor=OFFICER, reason="dispute 2026-17", customer_ref=disputed.customer_ref)
        for _ in range(AGREED):
            call(started_at=long_ago, purposes=["verification"], agreement_made=True)
        for _ in range(RECENT):
            call(started_at=now - timedelta(days=10), purposes=["training"])
        session.commit()


def _state(world: World) -> dict[str, Any]:
    """What is left, by recording id: status and data key, tombstone, object versions, rows, audit events."""
    runtime = world.runtime
    with runtime.sessions() as session:
        recordings = session.scalars(select(Recording).order_by(Recording.id)).all()
        return {
            "statuses": {row.id: row.status for row in recordings},
            "shredded": sorted(row.id for row in recordings if row.wrapped_data_key == b"" and row.customer_id is None),
            "tombstones": {
                tomb.recording_id: (tomb.reason, tomb.retain_until, tomb.objects_purged_at is not None)
                for tomb in session.scalars(select(Tombstone))
            },
            "versions": {row.id: len(versions_under(runtime.store, object_prefixes(row))) for row in recordings},
            "rows": {
                model.__name__: sorted(session.scalars(select(model.recording_id)))
                for model in (Transcript, Annotation)
            },
            "evaluation_comments": sorted(session.execute(select(Evaluation.recording_id, Evaluation.comment)).all()),
            # Each run writes its own receipt (`retention.swept`); every other event by action and recording.
            "audit": Counter(
                (event.action, event.object_id if event.object_type == "recording" else event.object_type)
                for event in session.scalars(select(AuditEvent).where(AuditEvent.action != "retention.swept"))
            ),
        }
