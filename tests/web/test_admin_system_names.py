"""No account takes a name the audit trail gives a job, the CLI or an unproved caller.

Found acting as an administrator and then reading the trail as a compliance officer: an account created as "cli"
(role admin) reset passwords and changed roles, and the audit page listed each as "cli, admin", exactly as the
operator's `callvault users` commands are listed; an account "retention" or "subject-access" likewise read as that
job, and the actor filter "cli" gave the person's events and the CLI's as one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.audit import SYSTEM_ACTOR_NAMES, Actor
from recordings_service.errors import Invalid
from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user
from tests.factories.audit import events, newest_seq
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, post_as

ROOT = Path(__file__).resolve().parents[2]
NEW_USER = "/admin/users/new"


@pytest.mark.parametrize("username", ["cli", "CLI", "Retention", "subject-access", "anonymous"])
def test_the_admin_page_refuses_a_system_actors_name_beside_the_field(
    client: FlaskClient, session: Session, username: str
) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    start = newest_seq(session)
    sent = post_as(client, NEW_USER, {"username": username, "role": "admin"}, token_from=NEW_USER, headers=ENGLISH)
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    field = re.search(r'<input id="username"[^>]*>', page)
    assert field is not None and 'aria-invalid="true"' in field[0] and f'value="{username}"' in field[0]
    assert "the audit trail's name of a job or the CLI: choose another" in " ".join(visible_text(page).split())
    assert session.scalar(select(User).where(User.username == username)) is None
    assert events(session, "user.created", after=start) == []


def test_the_cli_and_every_other_caller_of_create_user_is_refused_too(session: Session) -> None:
    with pytest.raises(Invalid) as refused:
        accounts.create_user(session, actor=SYSTEM, username="Integrity", role=Role.COMPLIANCE, password=None)
    assert refused.value.field == "username" and refused.value.why == "username_reserved"
    assert accounts.create_user(session, actor=SYSTEM, username="cli-ops", role=Role.ADMIN, password=None).id


def test_every_actor_without_an_account_has_its_name_kept() -> None:
    """The list stays complete: each actor the code declares without an account, and the unproved caller."""
    declared = {Actor.anonymous(None).name}
    for package in ("recordings_service", "web", "jobs"):
        for path in (ROOT / package).rglob("*.py"):
            declared |= set(re.findall(r'Actor\(\s*id=None,\s*name="([^"]+)"', path.read_text(encoding="utf-8")))
    assert len(declared) > 5
    assert declared <= SYSTEM_ACTOR_NAMES, f"add {sorted(declared - SYSTEM_ACTOR_NAMES)} to SYSTEM_ACTOR_NAMES"
