"""Two administrators taking each other out at once: one of them stays, whichever was first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from recordings_service import accounts, schema
from recordings_service.audit import Actor
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.errors import Conflict
from recordings_service.models.account import Role
from tests.conftest import private_postgres_schema
from tests.factories.accounts import make_user

Change = Callable[[Session, Actor, str], object]


@pytest.fixture
def own_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own, of the same kind: the count of administrators is over every committed row."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'admins.db'}")
        schema.upgrade(engine)
        yield engine
        engine.dispose()
        return
    with private_postgres_schema("t_admins_") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _disable(session: Session, actor: Actor, user_id: str) -> object:
    return accounts.disable_user(session, actor=actor, user_id=user_id)


def _demote(session: Session, actor: Actor, user_id: str) -> object:
    return accounts.change_role(session, actor=actor, user_id=user_id, role=Role.COMPLIANCE)


@pytest.mark.parametrize(("change", "why"), [(_disable, "last_admin"), (_demote, "last_admin_role")])
def test_two_admins_taking_each_other_out_at_once_leave_one(own_engine: Engine, change: Change, why: str) -> None:
    """Found by review: each admin's request counted two active administrators, so both went ahead and Callvault
    was left with none (nobody could manage accounts again without the CLI)."""
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        first_admin, second_admin = make_user(setup, role=Role.ADMIN), make_user(setup, role=Role.ADMIN)
        setup.commit()
    actors = [Actor(id=admin.id, name=admin.username, role=admin.role) for admin in (first_admin, second_admin)]
    outcome: list[object] = []

    def second_takes_out_first() -> None:
        with sessions() as session:
            try:
                change(session, actors[1], first_admin.id)
                session.commit()
                outcome.append("done")
            except Exception as exc:  # whatever it is, the assertion below names it
                outcome.append(exc)

    with sessions() as session:
        change(session, actors[0], second_admin.id)
        session.flush()
        racer = threading.Thread(target=second_takes_out_first)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), "the second admin's change did not wait for the first's"
        session.commit()
    racer.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert outcome[0].why == why
    with sessions() as session:
        assert accounts.get_user(session, first_admin.id).role == Role.ADMIN
        assert accounts.get_user(session, first_admin.id).active
