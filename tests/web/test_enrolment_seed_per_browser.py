"""An enrolment link's page offers each browser a seed of its own: whoever looks at the link without using it (an
admin who was shown it) does not learn the seed its holder then enrols.

Found by exploratory testing: the seed was made with the link and shown to anyone who opened its page, without
using the link up. One admin, alone, made an account, looked at its link, let the holder enrol (with the seed the
admin had read), later reset the holder's password, and at that link set a password of their own with a code from
the seed: signed in as the holder, a compliance officer's calls and trail included. The same after resetting the
holder's second factor and reading the new link's seed."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa
from recordings_service.audit import Actor
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, fresh_code, make_user, post_form, reloaded, shown_seed, signed_in

NEW_PASSWORD = "the holder's own, long"
ADMIN = Actor(id=None, name="admin-test", role="admin")


def _link(session: Session, envelope: Envelope, user_id: str) -> str:
    path = f"/enrol/{mfa.issue_enrolment_link(session, envelope, actor=ADMIN, user_id=user_id)}"
    session.commit()
    return path


def _enrol(browser: FlaskClient, path: str, seed: str, **fields: str) -> int:
    return post_form(browser, path, {**fields, "code": fresh_code(seed)}, token_from=path).status_code


def test_a_seed_read_at_the_link_by_another_browser_never_signs_in_as_the_holder(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    holder = make_user(session, role=Role.COMPLIANCE, password=None)
    path = _link(session, envelope, holder.id)
    admins_look, holders_browser = app.test_client(), app.test_client()

    seen_by_admin = shown_seed(admins_look, path)
    holders_seed = shown_seed(holders_browser, path)
    assert seen_by_admin != holders_seed
    assert shown_seed(holders_browser, path) == holders_seed  # the same again on a reload
    new = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert _enrol(holders_browser, path, holders_seed, **new) == 302
    assert mfa.totp_seed(envelope, reloaded(session, holder)) == holders_seed

    # Later the same admin resets the holder's password and uses that link with the seed they read.
    accounts.reset_password(session, actor=ADMIN, user_id=holder.id)
    reset_path = _link(session, envelope, holder.id)
    takeover = app.test_client()
    assert _enrol(takeover, reset_path, seen_by_admin, new_password=PASSWORD, confirm_password=PASSWORD) == 401
    assert not signed_in(takeover)
    assert not accounts.password_matches(reloaded(session, holder).password_hash, PASSWORD)


def test_a_code_from_no_offered_seed_enrols_nothing(app: Flask, session: Session, envelope: Envelope) -> None:
    holder = make_user(session, role=Role.TRAINER, password=None)
    path = _link(session, envelope, holder.id)
    looked, never_looked = app.test_client(), app.test_client()
    seed = shown_seed(looked, path)

    new = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert _enrol(never_looked, path, seed, **new) == 401  # another browser's seed: not offered to this one
    assert reloaded(session, holder).mfa_seed is None
    assert _enrol(looked, path, seed, **new) == 302
