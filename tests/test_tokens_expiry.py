"""Every API token expires: 90 days unless asked otherwise, a year for the telephony system's ingest token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.db import utcnow
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, make_user


@pytest.mark.parametrize(
    ("scope", "days", "source"),
    [("ingest", 365, "pbx-main"), ("read", 90, None), ("partner", 90, None), ("compliance", 30, None)],
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
    assert tokens.authenticate_token(session, plain) is not None
    assert tokens.authenticate_token(session, plain, now=token.expires_at) is None
