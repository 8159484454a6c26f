"""A leaver's account as an admin closes it and as someone holding its old credentials finds it afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from recordings_service import accounts, tokens
from recordings_service.db import utcnow
from recordings_service.errors import Unauthenticated
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events


def test_disabling_revokes_the_tokens_so_enabling_again_revives_none(session: Session, envelope: Envelope) -> None:
    """Found by review: a disabled account's tokens were only refused while it stayed disabled, and hidden from the
    live tokens list; enabling the account again (a returning employee, a mistaken disable) brought every one of
    them back to work, a token left on a leaver's laptop included."""
    leaver = make_user(session, role=Role.TRAINER)
    _, live = tokens.create_token(session, actor=SYSTEM, user=leaver, scope="read")
    expired, _ = tokens.create_token(session, actor=SYSTEM, user=leaver, scope="read")
    expired.expires_at = utcnow() - timedelta(days=1)
    session.flush()

    accounts.disable_user(session, actor=SYSTEM, user_id=leaver.id)
    accounts.enable_user(session, envelope, actor=SYSTEM, user_id=leaver.id)

    with pytest.raises(Unauthenticated) as refused:
        tokens.authenticate_token(session, live)
    assert refused.value.refusal is not None and refused.value.refusal.details == {"reason": "revoked"}
    [revoked] = events(session, "token.revoked")  # the expired one works no more as it is
    assert revoked.details == {"reason": "account_disabled"}
    assert expired.revoked_at is None


def test_disabling_an_account_already_disabled_revokes_nothing_again(session: Session) -> None:
    service = make_user(session, role=Role.SERVICE)
    tokens.create_token(session, actor=SYSTEM, user=service, scope="ingest", source="pbx")
    accounts.disable_user(session, actor=SYSTEM, user_id=service.id)
    accounts.disable_user(session, actor=SYSTEM, user_id=service.id)
    assert len(events(session, "token.revoked")) == 1
    assert [token for token in tokens.list_tokens(session, user_id=service.id) if token.revoked_at is None] == []


def test_enabling_an_account_disabled_before_tokens_were_revoked_revokes_them(
    session: Session, envelope: Envelope
) -> None:
    """An account disabled by an earlier version kept its tokens, refused only while it stayed disabled."""
    leaver = make_user(session, role=Role.TRAINER)
    _, kept = tokens.create_token(session, actor=SYSTEM, user=leaver, scope="read")
    leaver.active = False  # as an earlier version's disable left it
    session.flush()
    accounts.enable_user(session, envelope, actor=SYSTEM, user_id=leaver.id)
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(session, kept)
    assert [event.details for event in events(session, "token.revoked")] == [{"reason": "account_disabled"}]
