"""The jobs process killed (`kill -9`) at seeded random points of a research package build: every build that
ends equals one clean build (the same package, byte for byte under its SHA-256), and each audit event of a
build is written once.

An approved batch of 10 calls (PostgreSQL when it is reachable) is built once by a clean jobs process. Then,
round after round, the batch is made approved again as if never built (`reset_build`, as the build tests do)
and built by jobs processes of which each is killed at a seeded step (BUILD_STEPS in pause_points.py; a
call's load or recorded progress is picked by its position), the next one reclaiming the batch once the dead
one's lease has expired (the test moves the expiry to now instead of waiting out the lease). A build killed on
each of MAX_ATTEMPTS (3) attempts fails by design, so each round strikes two attempts at random and the third
only once it has committed ("built"); 20 kills in 7 rounds.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, BatchItem, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.research import batches
from recordings_service.research.build_queue import MAX_ATTEMPTS, package_key
from recordings_service.research.selection import BatchCriteria
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.research import institute, research_call, reset_build
from tests.faults.gunicorn_pause import CONTROL_ENV
from tests.faults.job_worker import BUILD_LEASE_ENV
from tests.faults.kills import database_kind, run_job, strike
from tests.faults.pause_points import BUILD_STEPS
from tests.faults.support import World, fault_world
from tests.live_server import settings_env

pytestmark = pytest.mark.slow

SEED = 16
KILLS = 20
CALLS = 10
PER_CALL = ("loaded", "recorded")


def test_jobs_killed_at_random_points_of_a_batch_build_end_as_one_clean_build(
    base_settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    kind = database_kind()
    control = tmp_path / "control"
    control.mkdir()
    (tmp_path / "world").mkdir()
    with fault_world(base_settings, tmp_path / "world", database=kind) as world:
        batch_id = _approved_batch(world)
        env = settings_env(world.settings) | {BUILD_LEASE_ENV: "300"}
        before = _audit(world)
        assert run_job("build", env, log=control / "clean.log").wait(timeout=120) == 0
        expected = _built(world, batch_id)
        assert expected["batch"][:2] == ("ready", CALLS) and expected["attempts"] == 1
        built_events = _audit(world) - before
        assert built_events[("research.package_built", batch_id)] == 1

        env |= {CONTROL_ENV: str(control)}
        struck: list[str] = []
        rounds = 0
        while len(struck) < KILLS:
            rounds += 1
            with world.runtime.sessions() as session:
                reset_build(session, session.get_one(ResearchBatch, batch_id))
            before = _audit(world)
            for _ in range(MAX_ATTEMPTS - 1):
                step = rng.choice([step for step in BUILD_STEPS if step != "built"])
                armed = f"{step}@{rng.randint(1, CALLS)}" if step in PER_CALL else step
                assert strike(control, "build", env, armed), armed
                struck.append(step)
                _expire_lease(world, batch_id)
            if len(struck) < KILLS:
                assert strike(control, "build", env, "built")  # the last attempt, killed once it committed
                struck.append("built")
            else:
                assert run_job("build", env, log=control / "build.log").wait(timeout=120) == 0
            assert _built(world, batch_id) == expected | {"attempts": MAX_ATTEMPTS}
            assert _audit(world) - before == built_events  # each event of the build once
        versions = len(list(world.runtime.store.list_versions(package_key(batch_id))))
        # One version a finished build (the clean one and each round's), and one of each build killed between its
        # upload and its commit: sealed under a data key never committed, unreadable, purged with the batch.
        assert versions == 1 + rounds + struck.count("uploaded") + struck.count("finishing")
    print(
        f"{kind}: {len(struck)} kills in {rounds} rounds ({', '.join(f'{s}={struck.count(s)}' for s in BUILD_STEPS)}) "
        f"of a {CALLS}-call build: each round's package equal to the clean build's (SHA-256 "
        f"{expected['batch'][2][:12]}…), its audit events once; {versions} stored versions of the package key"
    )


def _approved_batch(world: World) -> str:
    """November 2026's 10 eligible calls in a batch created by one compliance user and approved by another."""
    runtime = world.runtime
    now = datetime.now(UTC).replace(microsecond=0)
    with runtime.sessions() as session:
        for _ in range(CALLS):
            research_call(session, runtime.store, runtime.envelope)
        creator, approver = (actor_of(make_user(session, role=Role.COMPLIANCE)) for _ in range(2))
        request = batches.BatchRequest(
            study="Billing calls study",
            purpose="How agents explain estimated bills",
            institute_id=institute(session).id,
            criteria=BatchCriteria.model_validate(
                {"from": date(2026, 11, 1), "to": date(2026, 11, 30), "sample_size": CALLS, "seed": 7}
            ),
            study_end=(now + timedelta(days=30)).date(),
            access_start=now - timedelta(hours=1),
            access_end=now + timedelta(days=2),
            audio="original",
        )
        batch = batches.create_batch(session, runtime.envelope, actor=creator, request=request).made
        batches.approve_batch(session, actor=approver, batch_id=batch.id)
        session.commit()
        return batch.id


def _built(world: World, batch_id: str) -> dict[str, Any]:
    """The batch as the partner gets it: state, package hash and size (checked against the stored package as the
    partner's download decrypts it), each item's audio hash; and the attempts it took."""
    runtime = world.runtime
    with runtime.sessions() as session:
        batch = session.get_one(ResearchBatch, batch_id)
        assert batch.lease_owner is None and batch.build_error is None
        state = (batch.state, batch.build_done, batch.package_sha256, batch.package_size, batch.items_withdrawn)
        if batch.package_wrapped_key is not None:
            digest = hashlib.sha256()
            reader = runtime.envelope.decrypting_stream(
                runtime.store.get(package_key(batch_id)), wrapped=batch.package_wrapped_key, object_id=batch_id
            )
            with reader:
                while chunk := reader.read(1 << 20):
                    digest.update(chunk)
            assert digest.hexdigest() == batch.package_sha256
        rows = session.execute(select(BatchItem.id, BatchItem.audio_sha256).where(BatchItem.batch_id == batch_id))
        items = {item_id: audio_sha256 for item_id, audio_sha256 in rows}
        return {"batch": state, "items": items, "attempts": batch.build_attempts}


def _audit(world: World) -> Counter[tuple[str, str | None]]:
    with world.runtime.sessions() as session:
        return Counter(
            (action, id_) for action, id_ in session.execute(select(AuditEvent.action, AuditEvent.object_id))
        )


def _expire_lease(world: World, batch_id: str) -> None:
    """The killed builder's lease runs out (moved to now rather than waited for)."""
    with world.runtime.sessions() as session:
        session.execute(
            update(ResearchBatch)
            .where(ResearchBatch.id == batch_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
