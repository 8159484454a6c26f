"""A password is the text its holder types, whatever the keyboard sends for it: "ä" comes precomposed (U+00E4) from
most keyboards, decomposed (a + U+0308) from others and from some password managers, and a no-break space from a
phone's keyboard or a paste. Each place that takes or checks a password normalises it the same way (NFKC, as NIST
SP 800-63B advises: `password_policy.password_text`) before hashing. Found by an exploratory pass over odd text (a
helper): a password chosen as "Pääsy…" on one machine was refused at sign-in typed decomposed on another, 401
"wrong username, password or code" with the holder sure of what they typed, and ten such tries locked the account.
"""

from __future__ import annotations

import unicodedata

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa
from recordings_service.models import AuditEvent, User
from recordings_service.models.account import Role
from recordings_service.password_policy import MAX_PASSWORD
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import (
    PASSWORD,
    SYSTEM,
    enrol_seed,
    fresh_code,
    make_enrolled_user,
    make_user,
    post_form,
    reloaded,
    shown_seed,
    sign_in_via_form,
)

ODD = [
    "Pääsykoodi öljyä ÅÄÖ järvellä",
    "🐟🐠 kalastus 🎣 järvellä aamulla",
    "日本語のパスワード暗号強度テスト",
    "שלום עולם סיסמה ארוכה מאוד",
    "  välilyönnit alussa ja lopussa  ",
    "sarkain\tkeskellä ja + sekä %C4 %FF",
]
FINNISH = "Pääsykoodi öljyä ÅÄÖ järvellä"
DECOMPOSED = unicodedata.normalize("NFD", FINNISH)
NO_BREAK = "kolme\u00a0sanaa\u00a0peräkkäin kesällä"


def change(client: FlaskClient, current: str, new: str) -> int:
    fields = {"password": current, "new_password": new, "confirm_password": new}
    return post_form(client, "/account/password", fields, token_from="/account/password").status_code


def signs_in(app: Flask, user: User, secret: str, password: str) -> bool:
    return sign_in_via_form(app.test_client(), user, secret, password=password).status_code == 302


@pytest.mark.parametrize("new", ODD)
def test_a_password_of_any_text_changed_to_signs_in_as_typed(
    app: Flask, session: Session, envelope: Envelope, new: str
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    here = app.test_client()
    sign_in_via_form(here, user, secret)

    assert change(here, PASSWORD, new) == 302
    assert signs_in(app, user, secret, new)
    if new != new.strip():
        assert not signs_in(app, user, secret, new.strip())  # the spaces are part of it


@pytest.mark.parametrize(
    ("chosen", "typed"), [(FINNISH, DECOMPOSED), (DECOMPOSED, FINNISH), (NO_BREAK, NO_BREAK.replace("\u00a0", " "))]
)
def test_a_changed_password_signs_in_however_the_keyboard_sends_its_letters(
    app: Flask, session: Session, envelope: Envelope, chosen: str, typed: str
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    here = app.test_client()
    sign_in_via_form(here, user, secret)

    assert change(here, PASSWORD, chosen) == 302
    assert signs_in(app, user, secret, typed)
    assert signs_in(app, user, secret, chosen)
    # This account's refusals alone: the worker's database keeps what other test files committed.
    failed = select(AuditEvent).where(AuditEvent.action == "login.failed", AuditEvent.object_id == user.id)
    assert session.scalars(failed).all() == []


def test_the_current_password_is_checked_however_it_is_typed(app: Flask, session: Session, envelope: Envelope) -> None:
    user, secret = make_enrolled_user(session, envelope)
    user.password_hash = accounts.hash_password(FINNISH)
    session.commit()
    here = app.test_client()
    sign_in_via_form(here, user, secret, password=FINNISH)

    assert change(here, DECOMPOSED, PASSWORD) == 302
    assert accounts.password_matches(reloaded(session, user).password_hash, PASSWORD)


def test_a_password_chosen_through_the_set_up_link_signs_in_however_typed(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    holder = make_user(session, role=Role.TRAINER, password=None)
    admin = SYSTEM
    path = f"/enrol/{mfa.issue_enrolment_link(session, envelope, actor=admin, user_id=holder.id)}"
    session.commit()
    browser = app.test_client()
    secret = shown_seed(browser, path)
    fields = {"new_password": DECOMPOSED, "confirm_password": DECOMPOSED, "code": fresh_code(secret)}

    assert post_form(browser, path, fields, token_from=path).status_code == 302
    assert signs_in(app, reloaded(session, holder), secret, FINNISH)


def test_a_password_given_when_the_account_is_made_signs_in_however_typed(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    """As `callvault users create --password-stdin` makes an account (the line read from standard input)."""
    user = accounts.create_user(session, actor=SYSTEM, username="kaarina", role=Role.TRAINER, password=DECOMPOSED)
    secret = enrol_seed(user, envelope)
    session.commit()

    assert signs_in(app, user, secret, FINNISH)


def test_a_password_hashed_before_normalisation_still_signs_in_as_it_was_typed(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    """A hash made of the decomposed text as typed, before passwords were normalised, is still the holder's."""
    user, secret = make_enrolled_user(session, envelope)
    user.password_hash = accounts._hasher.hash(DECOMPOSED)  # as a release before this one hashed
    session.commit()

    assert signs_in(app, user, secret, DECOMPOSED)
    assert not signs_in(app, user, secret, "Pääsykoodi öljyä ÅÄÖ järvellä!")


def test_the_longest_password_signs_in_typed_decomposed(app: Flask, session: Session, envelope: Envelope) -> None:
    """128 characters as the policy counts them; typed decomposed they are more, which sign-in counted instead."""
    longest = ("Pääsy öljyä järvellä " * 7)[:MAX_PASSWORD]
    user, secret = make_enrolled_user(session, envelope)
    here = app.test_client()
    sign_in_via_form(here, user, secret)

    assert change(here, PASSWORD, longest) == 302
    assert len(unicodedata.normalize("NFD", longest)) > MAX_PASSWORD
    assert signs_in(app, user, secret, unicodedata.normalize("NFD", longest))


def test_a_weak_new_password_is_refused_alike_whatever_the_current_password(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    """Deliberate order: the new password's policy first. Refused for it, the current password is not checked at
    all, so the answer is the same whether it was right or wrong (a stolen session learns nothing from it, and can
    test a guess only with a new password the policy takes, which counts towards the lockout)."""
    user, secret = make_enrolled_user(session, envelope)
    here = app.test_client()
    sign_in_via_form(here, user, secret)
    weak = {"new_password": "password1234", "confirm_password": "password1234"}

    right = post_form(here, "/account/password", {"password": PASSWORD, **weak}, token_from="/account/password")
    wrong = post_form(here, "/account/password", {"password": "a guess", **weak}, token_from="/account/password")

    assert (right.status_code, wrong.status_code) == (422, 422)
    assert reloaded(session, user).failed_logins == 0
    guess = {"password": "a guess", "new_password": FINNISH, "confirm_password": FINNISH}
    assert post_form(here, "/account/password", guess, token_from="/account/password").status_code == 401
    assert reloaded(session, user).failed_logins == 1
