"""The lists of assignments and plans name a supervisor who has left, marked as one who can no longer evaluate.

Found by use: the names these lists showed were those of the accounts that may evaluate, so everyone's overdue list
(on the assignments page and the dashboard) showed a disabled supervisor's overdue calls, the work that most needs
handing on, as held by a bare account id, and the plans table showed them as "(cannot evaluate)" with no name.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import make_plan, overdue_on
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of


def test_a_supervisor_who_left_is_named_on_the_overdue_lists_and_the_plans(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, leaver = make_user(session, username="lead"), make_user(session, username="leaver")
    leaver.display_name = "Lea Ver"
    make_plan(session, actor_of(lead), supervisors=[lead, leaver])
    overdue_on(session, store, envelope, holder=leaver, lead=lead)
    leaver.active = False
    session.commit()
    client = client_of(app, lead)

    page = client.get("/assignments?overdue=1").get_data(as_text=True)
    dashboard = client.get("/dashboard").get_data(as_text=True)

    for shown in (page, dashboard):
        assert "<td>Lea Ver (cannot evaluate)</td>" in shown and f"<td>{leaver.id}</td>" not in shown
    assert "<td>lead, Lea Ver (cannot evaluate)</td>" in page
