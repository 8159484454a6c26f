"""Shared fixtures of the research tests: two compliance users (four eyes), an institute, approved batches
made through the service functions, and a built package read back as a ZIP."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.db import make_sessionmaker
from recordings_service.models import Institute, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research import batches
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.research import institute, research_call

MakeBatch = Callable[..., ResearchBatch]
BuildBatches = Callable[..., list[ResearchBatch]]


@pytest.fixture
def own(pg_engine: Engine, base_settings: Settings, store: ObjectStore, envelope: Envelope) -> Runtime:
    """A runtime on a PostgreSQL schema of the test's own: its rows really commit (the race tests' sessions)."""
    sessions = make_sessionmaker(pg_engine)
    return Runtime(settings=base_settings, engine=pg_engine, sessions=sessions, store=store, envelope=envelope)


@pytest.fixture
def creator(session: Session) -> Actor:
    """The compliance user who selects a batch."""
    return actor_of(make_user(session, role=Role.COMPLIANCE))


@pytest.fixture
def approver(session: Session) -> Actor:
    """A second compliance user, who may approve what `creator` selected."""
    return actor_of(make_user(session, role=Role.COMPLIANCE))


@pytest.fixture
def lab(session: Session) -> Institute:
    """An institute in the EEA (no transfer safeguard needed)."""
    return institute(session)


@pytest.fixture
def approved_batch(session: Session, envelope: Envelope, creator: Actor, approver: Actor, lab: Institute) -> MakeBatch:
    """`approved_batch(audio="original", sample_size=100, approve=True)`: a batch of November 2026's eligible
    calls (`tests.factories.research.research_call` makes them), created and approved, committed."""

    def make(*, audio: str = "original", sample_size: int = 100, approve: bool = True) -> ResearchBatch:
        now = datetime.now(UTC).replace(microsecond=0)
        request = batches.BatchRequest(
            study="Billing calls study",
            purpose="How agents explain estimated bills",
            institute_id=lab.id,
            criteria=BatchCriteria.model_validate(
                {"from": date(2026, 11, 1), "to": date(2026, 11, 30), "sample_size": sample_size, "seed": 7}
            ),
            study_end=(now + timedelta(days=30)).date(),
            access_start=now - timedelta(hours=1),
            access_end=now + timedelta(days=2),
            audio=audio,
        )
        batch = batches.create_batch(session, envelope, actor=creator, request=request).made
        if approve:
            batches.approve_batch(session, actor=approver, batch_id=batch.id)
        session.commit()
        return batch

    return make


@pytest.fixture
def built_batch(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> BuildBatches:
    """`built_batch(count=1)`: `count` approved one-call batches of a fresh research call, built by the jobs' build
    (committed): ready, their packages in the store."""

    def build(count: int = 1) -> list[ResearchBatch]:
        research_call(session, runtime.store, runtime.envelope)
        session.commit()
        made = [approved_batch(sample_size=1) for _ in range(count)]
        research_jobs.build_batches(runtime)
        for batch in made:
            session.refresh(batch)
            assert batch.state == BatchState.READY and batch.package_key is not None
        return made

    return build


@pytest.fixture
def built_package(runtime: Runtime) -> Callable[[ResearchBatch], zipfile.ZipFile]:
    """`built_package(batch)`: the batch's stored package, decrypted, as a ZIP (whole, in memory: tests only)."""

    def read(batch: ResearchBatch) -> zipfile.ZipFile:
        assert batch.package_key is not None and batch.package_wrapped_key is not None
        reader = runtime.envelope.decrypting_stream(
            runtime.store.get(batch.package_key), wrapped=batch.package_wrapped_key, object_id=batch.id
        )
        with reader:
            return zipfile.ZipFile(io.BytesIO(reader.read()))

    return read
