"""The same change to one account sent twice at once (two tabs, two admins, a double click): found by an exploratory
pass, on both databases. Each request read the account as it was before the other's commit, so one admin resetting
the password in one tab and the second factor in another passed the check that refuses one admin both resets (the
admin then held the enrolment link that set both: the account was theirs); an enrolment link was used twice, each
browser setting its own password and signed in; two disables, enables or revocations each wrote their event."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa, tokens
from recordings_service.audit import Actor
from recordings_service.db import make_sessionmaker
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import AuditEvent, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, fresh_code, make_enrolled_user, make_user
from tests.factories.own_database import second_waits_for_first


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
        code = fresh_code(mfa.pending_seed(envelope, newcomer) or "")
        setup.commit()
    holder = Actor(id=None, name="anonymous", role="anonymous")

    def enrol(password: str) -> Callable[[Session], object]:
        return lambda session: mfa.complete_enrolment(
            session, envelope, token=link, actor=holder, current_password="", new_password=password, code=code
        )

    outcome = second_waits_for_first(sessions, enrol(PASSWORD), enrol(PASSWORD + "-other"))

    assert isinstance(outcome, NotFound) and outcome.why == "enrolment_link_unknown", outcome
    with sessions() as session:
        assert accounts.password_matches(session.get_one(User, newcomer.id).password_hash, PASSWORD)
    assert count(sessions, "user.password_set", newcomer.id) == count(sessions, "mfa.enrolled", newcomer.id) == 1


def test_two_disables_enables_and_revocations_at_once_are_each_audited_once(own_engine: Engine) -> None:
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        first, second, person = admin(setup), admin(setup), make_user(setup, role=Role.TRAINER)
        setup.commit()

    def disable(actor: Actor) -> Callable[[Session], object]:
        return lambda session: accounts.disable_user(session, actor=actor, user_id=person.id)

    def enable(actor: Actor) -> Callable[[Session], object]:
        return lambda session: accounts.enable_user(session, actor=actor, user_id=person.id)

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
