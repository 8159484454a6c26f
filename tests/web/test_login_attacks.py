"""Sign-in as an attacker tries it: guesses in parallel bursts, one code sent twice at once, and timed replies."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from recordings_service import accounts, lockout, mfa, sign_in
from recordings_service.db import make_sessionmaker, utcnow
from recordings_service.models import User
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, fresh_code, make_enrolled_user, make_user

WRONG = "wrong password value"


def test_guesses_sent_in_parallel_each_count_towards_the_lockout(engine: Engine) -> None:
    """Found by review: each failure wrote back the count its request had loaded plus one, so two guesses checked at
    once counted as one, and bursts of guesses never locked the account."""
    sessions = make_sessionmaker(engine)
    username = f"burst-{secrets.token_hex(4)}"
    with sessions() as setup:
        make_user(setup, username=username, password=PASSWORD)
        setup.commit()
    try:
        with sessions() as first, sessions() as second:
            # Both requests load the account before either has counted its failure.
            first_view, second_view = accounts.find_user(first, username), accounts.find_user(second, username)
            assert first_view is not None and second_view is not None
            lockout.count_login_failure(first, user=first_view, ip=None, reason="bad_password")
            first.commit()
            lockout.count_login_failure(second, user=second_view, ip=None, reason="bad_password")
            second.commit()
            assert second_view.failed_logins == 2
        with sessions() as check:
            assert accounts.user_by_username(check, username).failed_logins == 2
    finally:
        with sessions() as cleanup:
            cleanup.execute(delete(User).where(User.username == username))
            cleanup.commit()


def test_the_tenth_failure_locks_and_starts_the_count_again(session: Session) -> None:
    user = make_user(session, password=PASSWORD)
    for _ in range(lockout.LOCKOUT_THRESHOLD - 1):
        assert sign_in.check_password_login(session, username=user.username, password=WRONG, ip=None) is None
    assert (user.failed_logins, user.locked_until) == (lockout.LOCKOUT_THRESHOLD - 1, None)
    assert sign_in.check_password_login(session, username=user.username, password=WRONG, ip=None) is None
    session.expire_all()
    assert user.failed_logins == 0 and user.locked_until is not None


class CountingHasher:
    """The real password hasher, noting each hash it verifies a password against."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return self.real.verify(password_hash, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_locked_or_passwordless_account_is_refused_as_slowly_as_a_name_nobody_has(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: a name nobody has was checked against a dummy hash, but a locked account (any name that
    exists, after ten wrong guesses) and one awaiting its holder's new password were refused at once, so timing the
    answers told which accounts exist. What makes the answers take as long (rather than a timing, which a loaded
    machine blurs): each refusal verifies the password exactly once, against a hash of the same cost."""
    wrong_guess = make_user(session, password=PASSWORD)
    locked = make_user(session, password=PASSWORD)
    locked.locked_until = utcnow() + lockout.LOCKOUT_PERIOD
    awaiting_password = make_user(session)  # created, or its password reset, and the link not used yet
    session.flush()
    hasher = CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    for username in (
        wrong_guess.username,
        f"nobody-{secrets.token_hex(4)}",
        locked.username,
        awaiting_password.username,
    ):
        hasher.verified.clear()
        assert sign_in.check_password_login(session, username=username, password=WRONG, ip=None) is None
        assert len(hasher.verified) == 1, username
        # The same parameters (time and memory cost) as the hash of a wrong guess at a real account.
        assert not hasher.real.check_needs_rehash(hasher.verified[0]), username


def test_one_code_sent_by_two_sign_ins_at_once_lets_only_one_in(engine: Engine, envelope: Envelope) -> None:
    """Found by review: each sign-in checked the code against the last used step as it had loaded it, so a code
    relayed by a phishing page at the moment the holder sent it let both in; a code works once."""
    sessions = make_sessionmaker(engine)
    with sessions() as setup:
        holder, secret = make_enrolled_user(setup, envelope)
        setup.commit()
    try:
        code = fresh_code(secret)
        with sessions() as first, sessions() as second:
            first_view, second_view = first.get(User, holder.id), second.get(User, holder.id)
            assert first_view is not None and second_view is not None
            assert mfa.check_totp_login(first, envelope, user=first_view, code=code, ip=None)
            first.commit()
            assert not mfa.check_totp_login(second, envelope, user=second_view, code=code, ip=None)
            second.commit()
    finally:
        with sessions() as cleanup:
            cleanup.execute(delete(User).where(User.id == holder.id))
            cleanup.commit()
