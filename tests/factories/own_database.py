"""A database of the test's own, of the kind the test runs on (the `own_engine` fixture, registered in
tests/conftest.py's `pytest_plugins`): its rows really commit, where the usual test session rolls back, so two
sessions can race for them; and `second_waits_for_first`, which runs such a race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recordings_service import schema
from recordings_service.db import make_engine
from tests.conftest import private_postgres_schema
from tests.factories.postgres_races import private_engine


@pytest.fixture
def own_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'own.db'}")
        schema.upgrade(engine)
        yield engine
        engine.dispose()
        return
    with private_postgres_schema("t_own_") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A migrated PostgreSQL schema of the test's own, whatever kind of database the test's other fixtures use."""
    with private_engine("t_race_") as engine:
        yield engine


def second_waits_for_first(
    sessions: sessionmaker[Session], first: Callable[[Session], object], second: Callable[[Session], object]
) -> object:
    """Run `first` and, while its transaction is open, `second` in a session of its own; assert that `second` waits
    for `first` to commit. Returns what `second` returned, or the exception it raised."""
    outcome: list[object] = []

    def run_second() -> None:
        with sessions() as session:
            try:
                outcome.append(second(session))
                session.commit()
            except Exception as exc:  # whatever it is, the caller's assertion names it
                outcome.append(exc)

    with sessions() as session:
        first(session)
        session.flush()
        racer = threading.Thread(target=run_second)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), f"the second did not wait for the first: {outcome}"
        session.commit()
    racer.join(timeout=30)
    assert len(outcome) == 1, outcome
    return outcome[0]
