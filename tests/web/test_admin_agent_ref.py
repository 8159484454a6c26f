"""An admin corrects the agent ref of an agent account given the wrong one: the agent it named can then get an
account, the account's sessions end, and the change is audited. Agent refs are unique among accounts, disabled ones
too, and the account page showed the ref read-only: the agent it named could never get an account."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM, make_user, post_form
from tests.factories.audit import events
from tests.factories.evaluations import make_agent_user, scored, seeded_form
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


def test_a_changed_agent_ref_revokes_the_accounts_tokens(
    app: Flask, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    """Found by a security review: the change ended the account's sessions but not its API tokens, and a token issued
    under the old ref then played the calls of the agent the new ref names."""
    form = seeded_form(session)
    qa = make_user(session, role=Role.QA_SUPERVISOR)
    agent = make_agent_user(session, "agent-7")
    other_call = scored(session, store, envelope, form=form, evaluator=qa, agent_ref="agent-8", queue="q", value="yes")
    other_call.released_at = utcnow()
    token, plain = tokens.create_token(session, actor=SYSTEM, user=agent, scope="read")
    admin = client_of(app, make_user(session, role=Role.ADMIN))
    session.commit()
    audio = f"/api/v1/recordings/{other_call.recording_id}/audio"
    headers = {"Authorization": f"Bearer {plain}"}
    assert app.test_client().get(audio, headers=headers).status_code == 404  # agent-8's call, not agent-7's

    page = f"/admin/users/{agent.id}"
    assert post_form(admin, f"{page}/agent-ref", {"agent_ref": "agent-8"}, token_from=page).status_code == 302

    assert app.test_client().get(audio, headers=headers).status_code == 401
    assert [event.details for event in events(session, "token.revoked", token.id)] == [{"reason": "agent_ref_changed"}]
