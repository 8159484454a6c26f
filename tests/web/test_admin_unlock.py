"""An admin lifts a lockout after failed sign-ins from the account's page, as `callvault users enable` does; enabling
or disabling says what it did."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form, reloaded
from tests.page_text import visible_text


def test_a_locked_account_page_offers_to_lift_the_lockout(client: FlaskClient, session: Session) -> None:
    """Found by exploratory testing: the page said "locked after failed sign-ins until 07:13" and offered only to
    disable the account; the lockout could be lifted from the CLI alone (or by destroying the password)."""
    login(client, make_user(session, role=Role.ADMIN))
    holder = make_user(session, role=Role.TRAINER)
    holder.locked_until = utcnow() + timedelta(minutes=10)
    session.flush()
    detail = f"/admin/users/{holder.id}"
    page = client.get(detail).get_data(as_text=True)
    assert re.search(rf'<form method="post" action="{detail}/enable"', page), "no way to lift the lockout"
    assert "Lift the lockout" in page

    done = post_form(client, f"{detail}/enable", {}, token_from=detail)
    assert done.status_code == 302
    assert reloaded(session, holder).locked_until is None and holder.active
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == holder.id)).all()
    assert "user.unlocked" in actions
    text = " ".join(visible_text(client.get(detail).get_data(as_text=True)).split())
    assert "Lockout lifted" in text and "Account enabled" not in text
    assert "Lift the lockout" not in text


def test_an_account_that_is_not_locked_offers_no_unlock(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    holder = make_user(session, role=Role.TRAINER)
    holder.locked_until = utcnow() - timedelta(minutes=1)  # a lockout that has run out
    session.flush()
    assert "Lift the lockout" not in client.get(f"/admin/users/{holder.id}").get_data(as_text=True)


def test_the_users_list_shows_who_is_locked_out(client: FlaskClient, session: Session) -> None:
    """Found by exploratory testing: a person locked out after failed sign-ins was "active" on the users list, so
    the admin they phoned had to open each account to find the lockout to lift."""
    login(client, make_user(session, role=Role.ADMIN))
    locked = make_user(session, role=Role.TRAINER, username="locked")
    locked.locked_until = utcnow() + timedelta(minutes=10)
    lapsed = make_user(session, role=Role.TRAINER, username="lapsed")
    lapsed.locked_until = utcnow() - timedelta(minutes=1)
    session.flush()
    page = client.get("/admin/users").get_data(as_text=True)
    found = re.findall(r">([a-z]+)</a></td>(.*?)</tr>", page, re.S)
    rows = {name: " ".join(visible_text(row).split()) for name, row in found}
    assert "locked after failed sign-ins until" in rows["locked"]
    assert "locked" not in rows["lapsed"]


def test_enabling_an_account_that_is_active_and_not_locked_says_nothing_changed(
    client: FlaskClient, session: Session
) -> None:
    """Found by review: the page said "Lockout lifted" (and `callvault users enable` "enabled") for an active
    account whose lockout had run out before the click, or that was never locked; nothing had been done."""
    login(client, make_user(session, role=Role.ADMIN))
    holder = make_user(session, role=Role.TRAINER)
    holder.locked_until = utcnow() - timedelta(minutes=1)  # the lockout ran out while the page was open
    session.flush()
    detail = f"/admin/users/{holder.id}"
    assert post_form(client, f"{detail}/enable", {}, token_from=detail).status_code == 302
    text = " ".join(visible_text(client.get(detail).get_data(as_text=True)).split())
    assert "No change: the account is active and was not locked." in text
    assert "Lockout lifted" not in text and "Account enabled" not in text
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == holder.id)).all()
    assert "user.unlocked" not in actions and "user.enabled" not in actions


def test_disabling_a_disabled_account_says_nothing_changed(client: FlaskClient, session: Session) -> None:
    """Found by exploring the admin pages: a second click on Disable (or a page left open) said "Account disabled;
    its sessions have ended" though it had been disabled already and nothing happened."""
    login(client, make_user(session, role=Role.ADMIN))
    holder = make_user(session, role=Role.TRAINER, active=False)
    detail = f"/admin/users/{holder.id}"
    assert post_form(client, f"{detail}/disable", {}, token_from=detail).status_code == 302
    text = " ".join(visible_text(client.get(detail).get_data(as_text=True)).split())
    assert "No change: the account is already disabled." in text and "Account disabled" not in text
