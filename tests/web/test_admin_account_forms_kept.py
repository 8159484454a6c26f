"""Found by exploratory testing: an admin's agent ref refused (101 characters) on an account's page came back as a
flash above the field showing the stored ref, what was typed gone and the field not marked; a role refused (a switch
between staff and an agent) showed the account's role chosen again. The page now comes back with what was typed,
the field marked and the reason beside it, in the reader's language."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish


def test_an_agent_ref_refused_keeps_what_was_typed_beside_its_field(app: Flask, session: Session) -> None:
    agent = make_user(session, role=Role.AGENT)
    agent.agent_ref = "agent-7"
    session.commit()
    page = f"/admin/users/{agent.id}"

    sent = post_finnish(
        client_of(app, make_user(session, role=Role.ADMIN)),
        f"{page}/agent-ref",
        {"agent_ref": "A" * 101},
        token_from=page,
    )

    assert sent.status_code == 422
    html = sent.get_data(as_text=True)
    field = re.search(r'<input id="agent_ref"[^>]*>', html)
    assert field is not None and f'value="{"A" * 101}"' in field[0]
    assert 'aria-invalid="true" aria-describedby="agent-ref-error"' in field[0]
    assert "asiakaspalvelijan tili tarvitsee tunnuksen" in visible_text(html)
    session.expire_all()
    assert session.get_one(User, agent.id).agent_ref == "agent-7"


def test_a_role_refused_keeps_the_role_chosen_beside_its_field(app: Flask, session: Session) -> None:
    trainer = make_user(session, role=Role.TRAINER)
    session.commit()
    page = f"/admin/users/{trainer.id}"

    sent = post_finnish(
        client_of(app, make_user(session, role=Role.ADMIN)), f"{page}/role", {"role": "agent"}, token_from=page
    )

    assert sent.status_code == 422
    html = sent.get_data(as_text=True)
    assert '<select id="role" name="role" aria-invalid="true" aria-describedby="role-error">' in html
    assert '<option value="agent" selected>' in html and '<option value="trainer" selected>' not in html
    assert "henkilöstön ja asiakaspalvelijan välillä vaihdetaan luomalla erillinen" in " ".join(
        visible_text(html).split()
    )
    session.expire_all()
    assert session.get_one(User, trainer.id).role == Role.TRAINER
