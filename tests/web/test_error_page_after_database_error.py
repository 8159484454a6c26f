"""A page whose request failed in the database (a unique key two requests raced for, found by an exploratory pass
with two admins editing one form at once) answered gunicorn's bare "Internal Server Error", not Callvault's page:
the error page reads the signed-in account for its menu, and the session, its flush failed, refused every read
until rolled back (PendingRollbackError inside the error handler)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.audit import Actor
from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form
from tests.page_text import visible_text


def test_a_failed_flush_shows_callvaults_error_page_to_the_signed_in_admin(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, person = make_user(session, role=Role.ADMIN), make_user(session, role=Role.TRAINER)
    client = app.test_client()
    login(client, admin)

    def clashing_disable(db: Session, *, actor: Actor, user_id: str) -> User:
        db.add(User(id=user_id, username="clash", role=Role.TRAINER.value))  # its id is taken: the flush fails
        db.flush()
        raise AssertionError("the flush should have failed")

    monkeypatch.setattr(accounts, "disable_user", clashing_disable)
    detail = f"/admin/users/{person.id}"
    refused = post_form(client, f"{detail}/disable", {}, token_from=detail)

    assert refused.status_code == 500
    page = " ".join(visible_text(refused.get_data(as_text=True)).split())
    assert "Something went wrong in Callvault" in page and "Account" in page  # the menu of the signed-in admin
