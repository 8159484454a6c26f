"""The institute's locking read (`get_institute(lock=True)`, the turnstile of a batch selection sent twice) returns
the institute as it is once the lock is taken, not the copy the session read before: a caller that read it first
(a page showing it) would otherwise act on it as it was before a change the lock had waited for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.models import Institute
from recordings_service.models.account import Role
from recordings_service.models.research import SafeguardKind
from recordings_service.research.institutes import Safeguard, get_institute, set_safeguard
from tests.factories.own_database import second_waits_for_first
from tests.factories.research import institute

OFFICER = Actor(id=None, name="officer", role=Role.COMPLIANCE)


def test_the_locking_read_sees_a_change_committed_while_it_waited(own_engine: Engine) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False)
    with sessions() as setup:
        institute_id = institute(setup, country="US", safeguard=None).id
        setup.commit()

    def record_scc(session: Session) -> object:
        clauses = Safeguard(SafeguardKind.SCC, reference="SCC-2021/914", on=date(2026, 11, 2))
        return set_safeguard(session, actor=OFFICER, institute_id=institute_id, safeguard=clauses)

    def read_then_lock(session: Session) -> Institute:
        shown = get_institute(session, institute_id)  # kept: a page's own read
        locked = get_institute(session, institute_id, lock=True)
        assert locked is shown
        return locked

    outcome = second_waits_for_first(sessions, record_scc, read_then_lock)

    assert isinstance(outcome, Institute) and outcome.safeguard_kind == SafeguardKind.SCC, outcome
