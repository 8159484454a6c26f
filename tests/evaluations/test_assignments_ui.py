"""The supervisor's pages: the dashboard's queue, overdue list and coverage; the plan form and "fill this week"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.evaluations import assignments, plans
from recordings_service.models import Assignment, EvaluationPlan, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.assignments import call_in_week, make_plan, submitted
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording


def section(html: str, heading_id: str) -> str:
    """The text of the <section> labelled by `heading_id`, up to the next section."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, heading_id
    return match.group(0)


def test_the_dashboard_shows_my_queue_overdue_assignments_and_coverage_per_agent(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    me, colleague = make_user(session, username="maija"), make_user(session, username="pekka")
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    a_week_ago = today - timedelta(days=7)
    this_week = plans.iso_week(today)
    last_week = plans.iso_week(plans.week_monday(this_week) - timedelta(days=7))
    for agent in ("agent-anna", "agent-anna", "agent-bo"):
        call_in_week(session, store, envelope, week=last_week, agent_ref=agent)
    plan = make_plan(session, actor_of(me), supervisors=[me], calls_per_agent=1)
    planned = plans.fill_plan(session, actor=actor_of(me), plan_id=plan.id, week=this_week).assignments
    anna = next(item for item in planned if item.agent_ref == "agent-anna")
    anna_call = session.get(Recording, anna.recording_id)
    assert anna_call is not None
    submitted(session, anna_call, me)
    late = make_recording(session, store, envelope, agent_ref="agent-cecilia")
    theirs = make_recording(session, store, envelope, agent_ref="agent-dan")
    assignments.assign_calls(
        session,
        actor=actor_of(me),
        recording_ids=[late.id],
        assignee_id=me.id,
        today=a_week_ago,
        due=today - timedelta(days=2),
    )
    assignments.assign_calls(
        session,
        actor=actor_of(me),
        recording_ids=[theirs.id],
        assignee_id=colleague.id,
        today=a_week_ago,
        due=today - timedelta(days=1),
    )
    session.commit()
    login(client, me)

    html = client.get("/dashboard").get_data(as_text=True)

    queue = section(html, "my-queue-heading")
    bo = next(item for item in planned if item.agent_ref == "agent-bo")
    assert f'href="/calls/{late.id}"' in queue and f'href="/calls/{bo.recording_id}"' in queue
    assert anna.recording_id not in queue  # evaluated: done
    assert theirs.id not in queue  # someone else's
    assert queue.index(late.id) < queue.index(bo.recording_id)  # overdue first
    overdue = section(html, "overdue-assignments-heading")
    assert late.id in overdue and theirs.id in overdue and "pekka" in overdue and bo.recording_id not in overdue
    coverage = section(html, "coverage-heading")
    year, number = this_week.split("-W")
    assert f"Week {int(number)}, {year}" in coverage  # as people write it, not 2026-W49
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", coverage)
    assert rows == [("agent-anna", "1", "1"), ("agent-bo", "0", "1")]


def test_a_trainer_sees_no_queue_and_cannot_open_the_list(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    session.commit()
    assert "my-queue-heading" not in client.get("/dashboard").get_data(as_text=True)
    assert client.get("/assignments").status_code == 403


def test_a_lead_creates_a_plan_in_the_form_fills_this_week_once_and_edits_it(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    lead, other = make_user(session), make_user(session)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    last_week = plans.iso_week(plans.week_monday(plans.iso_week(today)) - timedelta(days=7))
    for agent in ("a1", "a1", "a2"):
        call_in_week(session, store, envelope, week=last_week, agent_ref=agent)
    session.commit()
    login(client, lead)
    fields = {"name": "Sales weekly", "queue": "sales", "agent_ref": "", "calls_per_agent": "1", "seed": ""}

    invalid = post_form(
        client, "/assignments/plans/new", {**fields, "calls_per_agent": "lots"}, token_from="/assignments"
    )
    assert invalid.status_code == 422
    page = invalid.get_data(as_text=True)
    assert 'id="calls_per_agent-error"' in page and 'value="Sales weekly"' in page  # the form is kept
    created = post_form(
        client,
        "/assignments/plans/new",
        {**fields, "supervisor_ids": [lead.id, other.id], "active": "on"},  # type: ignore[dict-item]
        token_from="/assignments",
    )
    assert created.status_code == 302
    plan = session.scalars(select(EvaluationPlan)).one()
    assert (plan.calls_per_agent, plan.supervisor_ids, plan.active) == (1, [lead.id, other.id], True)
    listing = client.get("/assignments").get_data(as_text=True)
    assert "Sales weekly" in listing and str(plan.seed) in listing

    post_form(client, f"/assignments/plans/{plan.id}/fill", {}, token_from="/assignments")
    post_form(client, f"/assignments/plans/{plan.id}/fill", {}, token_from="/assignments")
    assert session.scalar(select(func.count()).select_from(Assignment)) == 2  # one per agent, once

    edited = post_form(
        client,
        f"/assignments/plans/{plan.id}",
        {**fields, "calls_per_agent": "3", "seed": "42", "supervisor_ids": lead.id},
        token_from=f"/assignments/plans/{plan.id}",
    )
    assert edited.status_code == 302
    session.refresh(plan)
    assert (plan.calls_per_agent, plan.seed, plan.supervisor_ids, plan.active) == (3, 42, [lead.id], False)
