"""Issue 15's acceptance, walked through the web UI as its users do it (each in their own browser session,
signing in with password and TOTP, posting the pages' forms with their CSRF tokens): a QA lead sets a plan of
2 calls per agent per week and fills it; a supervisor works their queue from the dashboard, scoring beside the
player (a draft first, then the submit), and releases the evaluation; the agent disputes it; the supervisor
resolves it with a re-score; and the agent's trend shows only the final score, once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.evaluations import plans, trends
from recordings_service.models import Assignment, Evaluation, EvaluationForm, EvaluationPlan, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, make_enrolled_user, sign_in_via_form
from tests.factories.audit import events
from tests.factories.evaluations import seeded_form
from tests.factories.search import transcribed_call

LINES = ["Hello, this is Anna from Helios Energy.", "Hi, I would like a fixed price contract.", "Sure, let me check."]


def signed_in_client(app: Flask, user: User, secret: str) -> FlaskClient:
    """A browser session of its own, signed in through the login form (password, then TOTP)."""
    client = app.test_client()
    response = sign_in_via_form(client, user, secret)
    assert response.status_code == 302 and "/login" not in response.headers["Location"], response.headers
    return client


def post(client: FlaskClient, path: str, data: Mapping[str, object], *, page: str) -> tuple[int, str]:
    """Post the form on `page` as the browser would (its CSRF token), following the redirect; (status, page)."""
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, heading_id
    return match.group(0)


def panel_answers(form: EvaluationForm, *, no: str | None = None) -> dict[str, object]:
    """Every question of the panel answered at its best ("yes", or 5 on a scale), but `no` for that question."""
    values: dict[str, object] = {"form_id": form.id}
    for question in form.questions:
        best = "5" if question.answer_type == "scale_1_5" else "yes"
        values[f"answers.{question.id}"] = "no" if question.text == no else best
    return values


def test_a_lead_plans_supervisors_work_the_queue_an_agent_disputes_and_the_trend_counts_the_final_score(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    form = seeded_form(session)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    this_week = plans.iso_week(today)
    last_monday = plans.week_monday(this_week) - timedelta(days=7)
    wednesday_noon = datetime.combine(last_monday + timedelta(days=2), time(12), tzinfo=UTC)
    calls = {
        agent: [
            transcribed_call(
                session, store, envelope, started_at=wednesday_noon, lines=LINES, agent_ref=agent, queue="sales"
            )
            for _ in range(3)
        ]
        for agent in ("agent-anna", "agent-bo")
    }
    lead, lead_secret = make_enrolled_user(session, envelope, role=Role.QA_SUPERVISOR, username="qa.lead")
    supervisors = []
    for name in ("qa.maija", "qa.pekka"):
        user, secret = make_enrolled_user(session, envelope, role=Role.QA_SUPERVISOR, username=name)
        user.lead_id = lead.id
        supervisors.append((user, secret))
    agent, agent_secret = make_enrolled_user(session, envelope, role=Role.AGENT, username="anna")
    agent.agent_ref = "agent-anna"
    session.commit()

    # The lead sets the plan in its form and fills this week: 2 calls per agent, shared between the supervisors.
    as_lead = signed_in_client(app, lead, lead_secret)
    plan_fields = {
        "name": "Sales weekly",
        "queue": "sales",
        "agent_ref": "",
        "calls_per_agent": "2",
        "seed": "",
        "supervisor_ids": [user.id for user, _ in supervisors],
        "active": "on",
    }
    status, page = post(as_lead, "/assignments/plans/new", plan_fields, page="/assignments/plans/new")
    assert status == 200 and "Sales weekly" in page
    plan = session.scalars(select(EvaluationPlan)).one()
    status, page = post(as_lead, f"/assignments/plans/{plan.id}/fill", {}, page="/assignments")
    year, number = this_week.split("-W")
    assert status == 200 and f"4 calls assigned for Week {int(number)}, {year}." in page
    planned = list(session.scalars(select(Assignment).where(Assignment.plan_id == plan.id)))
    per_agent = {ref: sum(1 for item in planned if item.agent_ref == ref) for ref in calls}
    assert per_agent == {"agent-anna": 2, "agent-bo": 2}
    per_supervisor = {user.id: [item for item in planned if item.assignee_id == user.id] for user, _ in supervisors}
    assert sorted(len(mine) for mine in per_supervisor.values()) == [2, 2]

    # Each supervisor's dashboard lists their own assignments under "My queue", linking to the call pages.
    as_supervisor, queue_links = {}, {}
    for user, secret in supervisors:
        as_supervisor[user.id] = client = signed_in_client(app, user, secret)
        queue = section(client.get("/dashboard").get_data(as_text=True), "my-queue-heading")
        assert "My queue" in queue
        queue_links[user.id] = links = re.findall(r'href="(/calls/[^"]+)"', queue)
        assigned = {item.recording_id for item in per_supervisor[user.id]}
        assert {link.removeprefix("/calls/") for link in links} == assigned

    # Maija opens her call of Anna's from the dashboard link; the page shows the evaluation panel beside the player.
    maija, pekka = (user for user, _ in supervisors)
    as_maija = as_supervisor[maija.id]
    mine = next(item for item in per_supervisor[maija.id] if item.agent_ref == "agent-anna")
    call_path = next(link for link in queue_links[maija.id] if link.endswith(mine.recording_id))
    call_page = as_maija.get(call_path).get_data(as_text=True)
    assert 'id="call-audio"' in call_page and 'id="evaluation-form"' in call_page
    assert f'data-draft-url="/calls/{mine.recording_id}/evaluation/draft"' in call_page
    assert LINES[0] in call_page  # the transcript beside the player

    # The panel saves a draft as she goes (its JSON endpoint): half the answers, not scored, not in her results.
    greeting = form.questions[0]
    draft = as_maija.post(
        f"{call_path}/evaluation/draft",
        data={"form_id": form.id, f"answers.{greeting.id}": "yes", "csrf_token": csrf_token(as_maija, call_path)},
    )
    assert draft.status_code == 200 and draft.get_json()["state"] == "draft"
    reopened = as_maija.get(call_path).get_data(as_text=True)
    assert "Your draft of this evaluation; it counts once submitted." in reopened
    assert trends.weekly_scores(session, weeks=1, agent_ref="agent-anna")[-1].count == 0

    # She submits the panel: one "no" (weight 1 of 17) scores 94.1; the call leaves her queue.
    summarised = "Summarised the need back to the customer"
    status, page = post(as_maija, f"{call_path}/evaluation", panel_answers(form, no=summarised), page=call_path)
    assert status == 200 and "Evaluation saved: 94.1 / 100." in page
    evaluation = session.scalars(select(Evaluation).where(Evaluation.recording_id == mine.recording_id)).one()
    assert (evaluation.id, evaluation.state, evaluation.version) == (draft.get_json()["id"], "submitted", 1)
    queue = section(as_maija.get("/dashboard").get_data(as_text=True), "my-queue-heading")
    assert mine.recording_id not in queue
    others = [item.recording_id for item in per_supervisor[maija.id] if item.id != mine.id]
    assert all(recording_id in queue for recording_id in others)

    # Pekka works one of his from his queue too (Bo's): the plan's work is shared.
    pekkas = next(item for item in per_supervisor[pekka.id] if item.agent_ref == "agent-bo")
    as_pekka = as_supervisor[pekka.id]
    pekka_path = f"/calls/{pekkas.recording_id}"
    status, page = post(as_pekka, f"{pekka_path}/evaluation", panel_answers(form), page=pekka_path)
    assert status == 200 and "Evaluation saved: 100.0 / 100." in page
    assert pekkas.recording_id not in section(as_pekka.get("/dashboard").get_data(as_text=True), "my-queue-heading")
    coverage = section(as_lead.get("/dashboard").get_data(as_text=True), "coverage-heading")
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", coverage)
    assert rows == [("agent-anna", "1", "2"), ("agent-bo", "1", "2")]  # evaluated of planned, this week

    # Before release the agent sees nothing of it; Maija releases it from the evaluation page.
    as_agent = signed_in_client(app, agent, agent_secret)
    assert f"/feedback/{evaluation.id}" not in as_agent.get("/feedback/").get_data(as_text=True)
    evaluation_path = f"/evaluations/{evaluation.id}"
    status, page = post(as_maija, f"{evaluation_path}/release", {}, page=evaluation_path)
    assert status == 200 and "Released to the agent." in page

    # Anna finds it under My feedback, with the call to listen to and read, and disputes it.
    mine_list = as_agent.get("/feedback/").get_data(as_text=True)
    assert "My feedback" in mine_list and f"/feedback/{evaluation.id}" in mine_list
    feedback_path = f"/feedback/{evaluation.id}"
    feedback_page = as_agent.get(feedback_path).get_data(as_text=True)
    assert f'href="{call_path}"' in feedback_page and "94.1" in feedback_page
    her_call = as_agent.get(call_path)
    assert her_call.status_code == 200
    her_page = her_call.get_data(as_text=True)
    assert 'id="call-audio"' in her_page and LINES[1] in her_page and 'id="evaluation-form"' not in her_page
    audio_src = re.search(r'id="call-audio"[^>]*src="([^"]+)"|src="([^"]+)"[^>]*id="call-audio"', her_page)
    assert audio_src, "no audio on the agent's call page"
    audio = as_agent.get((audio_src.group(1) or audio_src.group(2)).replace("&amp;", "&"))
    assert audio.status_code in {200, 206}
    status, page = post(
        as_agent, f"{feedback_path}/dispute", {"comment": "I did summarise her need at 0:40"}, page=feedback_path
    )
    assert status == 200 and "You disputed this evaluation." in page

    # The agent opens no one else's call: another agent's, nor her own that nobody released to her.
    bo_call = calls["agent-bo"][0].id
    assert as_agent.get(f"/calls/{bo_call}").status_code == 404
    assert as_agent.get(f"/calls/{pekkas.recording_id}").status_code == 404
    unreleased = next(item.recording_id for item in planned if item.agent_ref == "agent-anna" and item.id != mine.id)
    assert as_agent.get(f"/calls/{unreleased}").status_code == 404

    # The dispute is in Maija's queue and in her lead's; Pekka, who neither scored it nor leads her, has none.
    for client in (as_maija, as_lead):
        disputes = client.get("/disputes").get_data(as_text=True)
        assert evaluation_path in disputes and "I did summarise her need at 0:40" in disputes
    assert evaluation_path not in as_pekka.get("/disputes").get_data(as_text=True)

    # Maija resolves it with a note and a re-score: all answers at their best now.
    resolution = {"note": "Agreed, the summary is at 0:40", "rescore": "1", **panel_answers(form)}
    status, page = post(as_maija, f"{evaluation_path}/resolve", resolution, page=evaluation_path)
    assert status == 200 and "Dispute resolved." in page and "Earlier versions" in page
    assert evaluation_path not in as_lead.get("/disputes").get_data(as_text=True)

    # Anna sees the resolution and the new score.
    feedback_page = as_agent.get(feedback_path).get_data(as_text=True)
    assert "Resolved: Agreed, the summary is at 0:40" in feedback_page and "100.0" in feedback_page

    # Anna's trend: the final score only, counted once (not 94.1, not two evaluations, no draft).
    weeks = trends.weekly_scores(session, weeks=1, agent_ref="agent-anna", tz=ZoneInfo(settings.timezone))
    assert [(week.average, week.count) for week in weeks] == [(100.0, 1)]
    agent_page = as_lead.get("/agents/agent-anna").get_data(as_text=True)
    assert "<td>100.0</td><td>1</td>" in agent_page and "94.1" not in agent_page

    # Each step is in the audit trail, under whoever took it.
    session.expire_all()

    def actors(action: str, object_id: str | None = None) -> list[str | None]:
        return [event.actor_name for event in events(session, action, object_id)]

    assert actors("plan.created", plan.id) == ["qa.lead"]
    assert actors("plan.filled", plan.id) == ["qa.lead"]
    assert "qa.maija" in actors("recording.play_ticket_issued", mine.recording_id)
    assert "qa.maija" in actors("transcript.viewed", mine.recording_id)
    assert actors("evaluation.created", mine.recording_id) == ["qa.maija"]
    assert actors("evaluation.created", pekkas.recording_id) == ["qa.pekka"]
    assert actors("evaluation.released", mine.recording_id) == ["qa.maija"]
    assert "anna" in actors("transcript.viewed", mine.recording_id)
    assert "anna" in actors("recording.play_ticket_issued", mine.recording_id)
    assert "anna" in actors("recording.played", mine.recording_id)
    assert actors("evaluation.disputed", mine.recording_id) == ["anna"]
    assert actors("evaluation.revised", mine.recording_id) == ["qa.maija"]
    assert actors("evaluation.dispute_resolved", mine.recording_id) == ["qa.maija"]
    assert "anna" in actors("recording.access_denied", bo_call)
