"""Disabling an account, revoking a token and the sign-in resets ask before they act (no inline script)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user


def test_the_account_page_asks_before_disabling_resetting_or_revoking(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    holder = make_user(session, role=Role.COMPLIANCE, username="carol")
    token, _ = tokens.create_token(session, actor=SYSTEM, user=holder, scope="compliance")
    page = client.get(f"/admin/users/{holder.id}").get_data(as_text=True)

    def question(action: str) -> str:
        form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>', page)
        assert form is not None, action
        found = re.search(r'data-confirm="([^"]+)"', form[0])
        assert found is not None, form[0]
        return found[1]

    assert question(f"/admin/users/{holder.id}/disable").startswith("Disable carol?")
    assert question(f"/admin/users/{holder.id}/password").startswith("Reset the password of carol?")
    assert question(f"/admin/users/{holder.id}/mfa").startswith("Reset two-factor sign-in of carol?")
    assert question(f"/admin/users/{holder.id}/tokens/{token.id}/revoke").startswith(f"Revoke token {token.id}?")
    # The CSP forbids inline script: the questions are asked by a static file.
    assert '<script src="/static/confirm.js" defer></script>' in page
    assert "<script>" not in page and "onsubmit" not in page and "onclick" not in page
    assert client.get("/static/confirm.js").status_code == 200


def test_enabling_a_disabled_account_does_not_ask(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    holder = make_user(session, role=Role.TRAINER, active=False)
    page = client.get(f"/admin/users/{holder.id}").get_data(as_text=True)
    form = re.search(rf'<form method="post" action="/admin/users/{holder.id}/enable"[^>]*>', page)
    assert form is not None and "data-confirm" not in form[0]
