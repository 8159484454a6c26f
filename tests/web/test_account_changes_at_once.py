"""The same change to one account sent twice at once (two tabs, two admins, a double click): found by an exploratory
pass, on both databases. Each request read the account as it was before the other's commit, so one admin resetting
the password in one tab and the second factor in another passed the check that refuses one admin both resets (the
admin then held the enrolment link that set both: the account was theirs); an enrolment link was used twice, each
browser setting its own password and signed in; two disables, enables or revocations each wrote their event."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa, tokens
from recordings_service.audit import Actor, record_event
from recordings_service.db import make_sessionmaker, utcnow
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import ApiToken, AuditEvent, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, fresh_code, make_enrolled_user, make_user
from tests.factories.own_database import second_waits_for_first
from tests.factories.postgres_races import start_beside, wait_until_blocked


def admin(session: Session) -> Actor:
    user = make_user(session, role=Role.ADMIN)
    return Actor(id=user.id, name=user.username, role=user.role)


def count(sessions: Callable[[], Session], action: str, object_id: str) -> int:
    with sessions() as session:
        query = select(func.count()).where(AuditEvent.action == action, AuditEvent.object_id == object_id)
        return session.scalar(query) or 0


def test_one_admin_resetting_both_factors_from_two_tabs_is_refused_the_second(
    own_engine: Engine, envelope: Envelope
) -> None:
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        actor, (holder, _) = admin(setup), make_enrolled_user(setup, envelope, role=Role.TRAINER)
        setup.commit()

    outcome = second_waits_for_first(
        sessions,
        lambda session: accounts.reset_password(session, actor=actor, user_id=holder.id),
        lambda session: mfa.reset_mfa(session, actor=actor, user_id=holder.id),
    )

    assert isinstance(outcome, Conflict) and outcome.why == "second_reset_mfa", outcome
    with sessions() as session:
        assert session.get_one(User, holder.id).mfa_enrolled  # the second factor the holder still has
    assert count(sessions, "user.mfa_reset", holder.id) == 0


def test_an_enrolment_link_sent_twice_at_once_is_used_once(own_engine: Engine, envelope: Envelope) -> None:
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        actor, newcomer = admin(setup), make_user(setup, role=Role.TRAINER)
        link = mfa.issue_enrolment_link(setup, envelope, actor=actor, user_id=newcomer.id)
        seed, offered = mfa.offered_seed(envelope, newcomer, None)  # as the holder's page offered it
        code = fresh_code(seed)
        setup.commit()
    holder = Actor(id=None, name="anonymous", role="anonymous")

    def enrol(password: str) -> Callable[[Session], object]:
        return lambda session: mfa.complete_enrolment(
            session,
            envelope,
            token=link,
            actor=holder,
            current_password="",
            new_password=password,
            code=code,
            offered=offered,
        )

    outcome = second_waits_for_first(sessions, enrol(PASSWORD), enrol(PASSWORD + "-other"))

    assert isinstance(outcome, NotFound) and outcome.why == "enrolment_link_unknown", outcome
    with sessions() as session:
        assert accounts.password_matches(session.get_one(User, newcomer.id).password_hash, PASSWORD)
    assert count(sessions, "user.password_set", newcomer.id) == count(sessions, "mfa.enrolled", newcomer.id) == 1


def test_two_disables_enables_and_revocations_at_once_are_each_audited_once(
    own_engine: Engine, envelope: Envelope
) -> None:
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        first, second, person = admin(setup), admin(setup), make_user(setup, role=Role.TRAINER)
        setup.commit()

    def disable(actor: Actor) -> Callable[[Session], object]:
        return lambda session: accounts.disable_user(session, actor=actor, user_id=person.id)

    def enable(actor: Actor) -> Callable[[Session], object]:
        return lambda session: accounts.enable_user(session, envelope, actor=actor, user_id=person.id)

    second_waits_for_first(sessions, disable(first), disable(second))
    assert count(sessions, "user.disabled", person.id) == 1
    second_waits_for_first(sessions, enable(first), enable(second))
    assert count(sessions, "user.enabled", person.id) == 1

    with sessions() as setup:  # after the enable: a disable revokes the account's tokens
        token, _ = tokens.create_token(setup, actor=first, user=setup.get_one(User, person.id), scope="read")
        setup.commit()

    def revoke(actor: Actor) -> Callable[[Session], object]:
        return lambda session: tokens.revoke_token(session, actor=actor, token_id=token.id)

    second_waits_for_first(sessions, revoke(first), revoke(second))
    assert count(sessions, "token.revoked", token.id) == 1


@pytest.mark.postgres
def test_a_disable_meeting_a_revocation_of_one_of_its_tokens_waits_and_both_succeed(pg_engine: Engine) -> None:
    """Found by review of the same pass: a disable wrote its event (the audit chain's head locked to the commit) and
    then revoked the account's tokens, while a revocation of one of them locked the token and then wrote its event:
    a deadlock on PostgreSQL, one of the two a 500."""
    sessions = make_sessionmaker(pg_engine)
    with sessions() as setup:
        actor, person = admin(setup), make_user(setup, role=Role.TRAINER)
        token, _ = tokens.create_token(setup, actor=actor, user=person, scope="read")
        setup.commit()
    revoking = sessions()  # a revocation of the token holds it, then writes its event
    revoking.get_one(ApiToken, token.id, with_for_update=True).revoked_at = utcnow()
    revoking.flush()
    disabling, outcome = start_beside(
        sessions, lambda session: accounts.disable_user(session, actor=actor, user_id=person.id)
    )
    wait_until_blocked(pg_engine, disabling, outcome, what="the disable")
    record_event(revoking, actor=actor, action="token.revoked", object_type="api_token", object_id=token.id)
    revoking.commit()
    revoking.close()
    disabling.join(timeout=30)

    assert outcome.get("done") is True, outcome
    assert count(sessions, "token.revoked", token.id) == 1  # the disable found it revoked already


@pytest.mark.postgres
def test_an_account_made_while_an_admin_signs_in_gets_its_link_and_both_succeed(
    pg_engine: Engine, envelope: Envelope
) -> None:
    """Found by a lock-order check of the test suite: making an account (its creation audited, the audit chain's
    head locked to the commit) and then its enrolment link locked every active administrator's row, and waited for
    an admin signing in, who held their own row and waited for that head: a deadlock on PostgreSQL."""
    sessions = make_sessionmaker(pg_engine)
    with sessions() as setup:
        actor, signing_in_admin = admin(setup), make_user(setup, role=Role.ADMIN)
        setup.commit()
    signing_in = sessions()  # a sign-in holds the admin's row (its last sign-in), then writes its event
    signing_in.get_one(User, signing_in_admin.id, with_for_update=True).last_login_at = utcnow()
    signing_in.flush()

    def create(session: Session) -> object:
        made = accounts.create_user(session, actor=actor, username="newcomer", role=Role.TRAINER, password=None)
        return mfa.issue_enrolment_link(session, envelope, actor=actor, user_id=made.id)

    creating, outcome = start_beside(sessions, create)
    creating.join(timeout=3)
    record_event(signing_in, actor=actor, action="login.succeeded", object_type="user", object_id=actor.id)
    signing_in.commit()
    signing_in.close()
    creating.join(timeout=30)

    assert outcome.get("done") is True, outcome
