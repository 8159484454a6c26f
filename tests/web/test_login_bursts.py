"""Guesses sent all at once: every one is weighed against the count the guesses before it left, so an attacker's burst
checks no more passwords or codes than one guess at a time would before the lockout (found by the sign-in pass: with
the lock read from each request's own copy of the account, a burst of 16 had 18 passwords checked before it held)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from recordings_service import mfa, sign_in
from recordings_service.db import make_sessionmaker
from recordings_service.lockout import LOCKOUT_THRESHOLD
from recordings_service.models import AuditEvent, User
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, make_enrolled_user, make_user

BURST = 16


def send_at_once(engine: Engine, guess: Callable[[Session], object]) -> None:
    """`BURST` guesses from as many threads, each in its own session, released together."""
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(BURST)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with sessions() as session:
                start.wait()
                guess(session)
                session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def failure_reasons(engine: Engine, user_id: str) -> Counter[str]:
    with make_sessionmaker(engine)() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login.failed", AuditEvent.object_id == user_id)
        )
        return Counter(str(event.details["reason"]) for event in events)


def remove(engine: Engine, user_id: str) -> None:
    with make_sessionmaker(engine)() as cleanup:
        cleanup.execute(delete(User).where(User.id == user_id))
        cleanup.commit()


def test_a_burst_of_wrong_passwords_has_ten_checked_and_the_rest_refused_as_locked(engine: Engine) -> None:
    with make_sessionmaker(engine)() as setup:
        user = make_user(setup, username=f"burst-{secrets.token_hex(4)}", password=PASSWORD)
        setup.commit()
    try:
        send_at_once(
            engine,
            lambda session: sign_in.check_password_login(
                session, username=user.username, password="a wrong guess", ip=None
            ),
        )
        assert failure_reasons(engine, user.id) == {"bad_password": LOCKOUT_THRESHOLD, "locked": BURST - 10}
    finally:
        remove(engine, user.id)


def test_a_burst_of_wrong_codes_has_ten_checked_and_the_rest_refused_as_locked(
    engine: Engine, envelope: Envelope
) -> None:
    with make_sessionmaker(engine)() as setup:
        holder, _secret = make_enrolled_user(setup, envelope, username=f"burst-{secrets.token_hex(4)}")
        setup.commit()

    def guess(session: Session) -> None:
        user = session.get(User, holder.id)  # as the sign-in's second step loads the account its first step found
        assert user is not None
        assert not mfa.check_totp_login(session, envelope, user=user, code="000000", ip=None)

    try:
        send_at_once(engine, guess)
        assert failure_reasons(engine, holder.id) == {"bad_totp": LOCKOUT_THRESHOLD, "locked": BURST - 10}
    finally:
        remove(engine, holder.id)
