"""A plan's page offers its supervisors who can no longer evaluate (a disabled account), ticked and marked so:
saving the page for another change (a rename, a pause) kept them off the list and dropped them from the plan
unasked, where the API keeps them; unticking one still takes them off."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import User
from tests.factories.accounts import make_user, post_form
from tests.factories.assignments import make_plan
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of

FIELDS = {"name": "Sales weekly, renamed", "queue": "sales", "agent_ref": "", "calls_per_agent": "2", "seed": "7"}


def test_saving_the_page_keeps_a_supervisor_who_left_unless_unticked(app: Flask, session: Session) -> None:
    lead, leaver = make_user(session, username="lead"), make_user(session, username="leaver")
    plan = make_plan(session, actor_of(lead), supervisors=[lead, leaver])
    leaver.active = False
    session.commit()
    client, path = client_of(app, lead), f"/assignments/plans/{plan.id}"

    page = client.get(path).get_data(as_text=True)
    ticked = re.findall(r'name="supervisor_ids" value="(\w+)" checked', page)
    assert ticked == [lead.id, leaver.id]
    assert re.search(rf'value="{leaver.id}" checked> leaver \(cannot evaluate\)</label>', page)

    renamed = post_form(client, path, {**FIELDS, "supervisor_ids": ticked}, token_from=path)  # type: ignore[dict-item]
    assert renamed.status_code == 302
    session.refresh(plan)
    assert (plan.name, plan.supervisor_ids) == ("Sales weekly, renamed", [lead.id, leaver.id])

    unticked = post_form(client, path, {**FIELDS, "supervisor_ids": lead.id}, token_from=path)
    assert unticked.status_code == 302
    session.refresh(plan)
    assert plan.supervisor_ids == [lead.id]
    assert leaver.id not in client.get(path).get_data(as_text=True)


def test_a_new_plan_offers_only_those_who_can_evaluate(app: Flask, session: Session) -> None:
    lead = make_user(session, username="lead")
    gone: User = make_user(session, username="gone", active=False)
    session.commit()
    page = client_of(app, lead).get("/assignments/plans/new").get_data(as_text=True)
    assert lead.id in page and gone.id not in page
