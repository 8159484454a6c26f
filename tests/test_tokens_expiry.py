"""Every API token expires: 90 days unless asked otherwise, a year for the telephony system's ingest token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, Unauthenticated
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, make_user


@pytest.mark.parametrize(
    ("scope", "days", "source"),
    [
        ("ingest", 365, "pbx-main"),
        ("read", 90, None),
        ("partner", 90, None),
        ("compliance", 30, None),
        ("audit", 90, None),
    ],
)
def test_a_token_created_without_a_lifetime_expires(
    session: Session, scope: str, days: int, source: str | None
) -> None:
    roles = {"ingest": Role.SERVICE, "partner": Role.RESEARCH_PARTNER}  # a role that can use the scope
    user = make_user(session, role=roles.get(scope, Role.COMPLIANCE))
    before = utcnow()
    token, plain = tokens.create_token(session, actor=SYSTEM, user=user, scope=scope, source=source)
    assert token.expires_at is not None
    assert before + timedelta(days=days) <= token.expires_at <= utcnow() + timedelta(days=days)
    assert tokens.authenticate_token(session, plain) is token
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(session, plain, now=token.expires_at)


@pytest.mark.parametrize("days", [731, 100_000, 10_000_000])
def test_no_token_lives_longer_than_two_years(session: Session, days: int) -> None:
    """Found by exploratory testing: `--days 100000` made a read token for 273 years (and a larger number
    overflowed the expiry date)."""
    user = make_user(session, role=Role.QA_SUPERVISOR)
    with pytest.raises(Invalid) as refused:
        tokens.create_token(session, actor=SYSTEM, user=user, scope="read", lifetime=timedelta(days=days))
    assert (refused.value.field, refused.value.message) == ("lifetime", "a read token lives at most 730 days")
    token, _ = tokens.create_token(session, actor=SYSTEM, user=user, scope="read", lifetime=timedelta(days=730))
    assert token.expires_at is not None and token.expires_at > utcnow() + timedelta(days=729)


def test_a_disabled_account_gets_no_token_and_its_tokens_are_not_listed_as_live(session: Session) -> None:
    """Found by exploratory testing: a token made for a disabled account was refused every use, yet listed among
    the tokens that still work, and began working unnoticed once the account was enabled again."""
    reader = make_user(session, role=Role.QA_SUPERVISOR)
    token, _ = tokens.create_token(session, actor=SYSTEM, user=reader, scope="read")
    assert token in tokens.list_live_tokens(session, now=utcnow())
    reader.active = False
    session.flush()
    assert token not in tokens.list_live_tokens(session, now=utcnow())
    with pytest.raises(Conflict):
        tokens.create_token(session, actor=SYSTEM, user=reader, scope="read")


def test_a_token_and_its_account_are_read_in_one_statement(session: Session, connection: Connection) -> None:
    """Every API request authenticates its token and asks whether the account is active and what its role is: the
    account was a second statement, a round trip to the database for every request."""
    user = make_user(session, role=Role.QA_SUPERVISOR)
    _, plain = tokens.create_token(session, actor=SYSTEM, user=user, scope="read")
    session.commit()
    session.expunge_all()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        token = tokens.authenticate_token(session, plain)
        assert (token.user.active, token.user.role) == (True, Role.QA_SUPERVISOR)
    finally:
        event.remove(connection, "before_cursor_execute", seen)

    assert len([statement for statement in statements if statement.lstrip().startswith("SELECT")]) == 1
