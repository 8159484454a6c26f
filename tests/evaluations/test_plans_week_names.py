"""A week is filled once under its one name: a week written with other scripts' digits ("2026-W٤٩", which the API's
pattern and `int` both read) or unpadded ("2026-W9") named a filled week anew, and filling it drew the plan's
calls for that week a second time. Such a week is refused, naming the field."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.evaluations import plans
from recordings_service.models import Assignment
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of

SAME_WEEK_OTHERWISE_WRITTEN = ["2026-W٤٩", "２０２６-W49", "2026-W049", "02026-W49"]


@pytest.mark.parametrize("week", SAME_WEEK_OTHERWISE_WRITTEN)
def test_a_filled_week_written_otherwise_is_refused_not_drawn_again(
    session: Session, store: ObjectStore, envelope: Envelope, week: str
) -> None:
    lead = make_user(session)
    for day in range(4):
        call_in_week(session, store, envelope, agent_ref="agent-a", day=day)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2)
    assert len(plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK).assignments) == 2

    with pytest.raises(Invalid) as refused:
        plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=week)

    assert refused.value.field == "week"
    assert session.scalar(select(func.count()).select_from(Assignment)) == 2


def test_the_api_refuses_other_scripts_digits_naming_the_week(app: Flask, session: Session) -> None:
    lead = make_user(session)
    plan = make_plan(session, actor_of(lead), supervisors=[lead])
    session.commit()
    client = client_of(app, lead)
    sent = client.post(
        f"/api/v1/evaluation-plans/{plan.id}/fill",
        json={"week": "2026-W٤٩"},
        headers={"X-CSRFToken": csrf_token(client, "/dashboard")},
    )
    assert sent.status_code == 422
    assert sent.get_json()["field"] == "week"
