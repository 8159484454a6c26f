"""Two administrators taking each other out at once: one of them stays, whichever was first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.audit import Actor
from recordings_service.db import make_sessionmaker
from recordings_service.errors import Conflict
from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.own_database import second_waits_for_first

Change = Callable[[Session, Actor, str], object]


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

    outcome = second_waits_for_first(
        sessions,
        lambda session: change(session, actors[0], second_admin.id),
        lambda session: change(session, actors[1], first_admin.id),
    )

    assert isinstance(outcome, Conflict) and outcome.why == why, outcome
    with sessions() as session:
        assert accounts.get_user(session, first_admin.id).role == Role.ADMIN
        assert accounts.get_user(session, first_admin.id).active
