"""Two policy changes at once are made one after the other, each checked against the other's outcome.

Found by reading `apply_policy_change` as two compliance officers at work: while one officer's change of
`training` to 48 months was being applied, another's change of `maximum` to 40 months was checked against the
`training` period of 12 months it was replacing, so both went through, and the table kept training calls for longer
than the maximum no policy may exceed. Now a change locks the policy table first: the second waits, then is refused.
PostgreSQL only: SQLite has one writer at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.errors import Invalid
from recordings_service.models.privacy import RetentionRule
from recordings_service.privacy import retention
from tests.factories.postgres_races import private_engine, waits_for_a_lock
from tests.factories.privacy import OFFICER, ORG_ZONE

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_policy_race_") as engine:
        yield engine


def test_a_maximum_set_while_a_longer_period_is_being_applied_is_refused(engine: Engine) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
    first = sessions()
    retention.apply_policy_change(
        first, actor=OFFICER, rule="training", keep=48, unit="months", basis="Four training cycles.", zone=ORG_ZONE
    )
    outcome: dict[str, Any] = {}

    def second_officer() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                retention.apply_policy_change(
                    session,
                    actor=OFFICER,
                    rule="maximum",
                    keep=40,
                    unit="months",
                    basis="Shorter overall.",
                    zone=ORG_ZONE,
                )
                session.commit()
                outcome["result"] = "applied"
            except Invalid as exc:
                outcome["result"] = exc.code

    thread = threading.Thread(target=second_officer)
    thread.start()
    deadline = time.monotonic() + 20
    while "result" not in outcome and not ("pid" in outcome and waits_for_a_lock(engine, outcome["pid"])):
        assert time.monotonic() < deadline, "the second change neither waited nor finished"
        time.sleep(0.05)
    first.commit()
    first.close()
    thread.join(timeout=20)

    print("OUTCOME", outcome)
    assert outcome["result"] == "below_policies"
    with sessions() as session:
        policies = retention.load_policies(session)
    maximum = policies[RetentionRule.MAXIMUM]
    assert not any(period.longer_than(maximum) for period in policies.values())
