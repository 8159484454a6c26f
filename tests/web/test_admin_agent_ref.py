"""An admin corrects the agent ref of an agent account given the wrong one: the agent it named can then get an
account, the account's sessions end, and the change is audited. Agent refs are unique among accounts, disabled ones
too, and the account page showed the ref read-only: the agent it named could never get an account."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, User
from recordings_service.models.account import Role
from tests.factories.accounts import make_user, post_form
from tests.factories.staff import client_of


def _agent(session: Session, agent_ref: str) -> User:
    agent = make_user(session, role=Role.AGENT)
    agent.agent_ref = agent_ref
    session.flush()
    return agent


def test_an_admin_corrects_an_agent_ref_and_the_agent_it_named_gets_an_account(app: Flask, session: Session) -> None:
    admin = client_of(app, make_user(session, role=Role.ADMIN))
    liisa = _agent(session, "agent-7")  # agent-7 is Matti
    other = _agent(session, "agent-9")
    session.commit()
    page = f"/admin/users/{liisa.id}"
    sessions_before = liisa.session_version

    taken = post_form(admin, f"{page}/agent-ref", {"agent_ref": other.agent_ref or ""}, token_from=page)
    assert taken.status_code == 409  # the page again, the ref typed kept beside the reason
    refused = taken.get_data(as_text=True)
    assert "another account has this agent ref already" in refused
    assert 'value="agent-9" required maxlength="100" aria-invalid="true"' in refused

    saved = post_form(admin, f"{page}/agent-ref", {"agent_ref": "agent-8"}, token_from=page)
    assert saved.status_code == 302
    session.expire_all()
    corrected = session.get_one(User, liisa.id)
    assert (corrected.agent_ref, corrected.session_version) == ("agent-8", sessions_before + 1)
    changed = select(AuditEvent).where(AuditEvent.object_id == liisa.id, AuditEvent.action == "user.agent_ref_changed")
    assert session.scalars(changed).one().details == {"from": "agent-7", "to": "agent-8"}

    matti = post_form(
        admin, "/admin/users/new", {"username": "matti", "role": "agent", "agent_ref": "agent-7"}, token_from=page
    )
    assert matti.status_code == 200, matti.get_data(as_text=True)  # created: the page with the enrolment link
    assert session.scalars(select(User.agent_ref).where(User.username == "matti")).one() == "agent-7"
