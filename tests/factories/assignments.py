"""Factories for assignment and plan tests: calls of a given ISO week, a submitted evaluation, a plan, an overdue
assignment and the Reassign link a page shows for it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.evaluations import assignments, plans
from recordings_service.models import Assignment, EvaluationPlan, Recording, User
from recordings_service.models.evaluation import EvaluationState
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.factories.search import evaluate

WEEK = "2026-W49"  # Monday 30 November to Sunday 6 December 2026
LAST_WEEK = "2026-W48"


def call_in_week(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    week: str = LAST_WEEK,
    day: int = 0,
    **overrides: Any,
) -> Recording:
    """A transcribed call started on `day` (0 = Monday) of `week`, at noon UTC."""
    started = datetime.combine(plans.week_monday(week) + timedelta(days=day), time(12), tzinfo=UTC)
    values: dict[str, Any] = {"status": "transcribed", "started_at": started, **overrides}
    return make_recording(session, store, envelope, **values)


def submitted(
    session: Session, recording: Recording, evaluator: User, *, state: str = EvaluationState.SUBMITTED
) -> None:
    evaluation = evaluate(session, recording, evaluator=evaluator, score=80.0)
    evaluation.state = state
    session.flush()


def make_plan(
    session: Session,
    actor: Actor,
    *,
    supervisors: list[User],
    calls_per_agent: int = 2,
    seed: int = 7,
    queue: str | None = "sales",
    agent_ref: str | None = None,
) -> EvaluationPlan:
    data = plans.PlanInput(
        name="Sales weekly",
        queue=queue,
        agent_ref=agent_ref,
        calls_per_agent=calls_per_agent,
        supervisor_ids=[user.id for user in supervisors],
        seed=seed,
    )
    return plans.create_plan(session, actor=actor, data=data)


def api_caller(client: FlaskClient) -> Callable[..., Any]:
    """`ask(method, path, expect, body)`: a JSON call by the signed-in `client`, its status asserted, its JSON."""
    token = csrf_token(client, "/dashboard")

    def ask(method: str, path: str, expect: int, body: dict[str, Any] | None = None) -> Any:
        response = client.open(path, method=method, json=body, headers={"X-CSRFToken": token})
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json()

    return ask


def overdue_on(session: Session, store: ObjectStore, envelope: Envelope, *, holder: User, lead: User) -> Assignment:
    """A call on `holder`'s list, three days overdue."""
    call = make_recording(session, store, envelope)
    [held] = assignments.assign_calls(
        session,
        actor=actor_of(lead),
        recording_ids=[call.id],
        assignee_id=holder.id,
        today=date.today() - timedelta(days=10),
        due=date.today() - timedelta(days=3),
    ).assignments
    return held


def reassign_link(page: str, assignment_id: str) -> str:
    found = re.search(rf'href="(/assignments/{assignment_id}/reassign[^"]*)"', page)
    assert found, "no Reassign link"
    return html.unescape(found.group(1))


def on_list(
    session: Session, store: ObjectStore, envelope: Envelope, *, to: User, by: User, dues: list[int]
) -> dict[int, str]:
    """Assignments on `to`'s list due `dues` days from today (negative: overdue), by those days."""
    made = {}
    for days in dues:
        call = make_recording(session, store, envelope)
        [assignment] = assignments.assign_calls(
            session,
            actor=actor_of(by),
            recording_ids=[call.id],
            assignee_id=to.id,
            today=date.today() - timedelta(days=30),
            due=date.today() + timedelta(days=days),
        ).assignments
        made[days] = assignment.id
    return made


def walk(ask: Any, query: str, limit: int) -> list[list[str]]:
    """The ids of one list, page by page, following `next_cursor`."""
    pages, cursor = [], ""
    while True:
        page = ask("GET", f"/api/v1/assignments?{query}&limit={limit}{cursor}", 200)
        pages.append([item["id"] for item in page["items"]])
        if page["next_cursor"] is None:
            return pages
        cursor = f"&cursor={page['next_cursor']}"
