"""A new password is refused when it is easily guessed (ASVS 2.1.7): a common password, a keyboard pattern, repeats,
or the account's own name in it; a phrase of unrelated words passes. Found by the sign-in pass: only the length was
checked, so `password1234` and the holder's own username with digits were accepted."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.errors import Invalid
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, SYSTEM, make_enrolled_user, post_form, reloaded, sign_in_via_form
from tests.page_text import visible_text

GUESSABLE = ["password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "Salasana12345", "1234567890ab"]


@pytest.mark.parametrize("password", GUESSABLE)
def test_an_easily_guessed_password_is_refused_naming_why(session: Session, password: str) -> None:
    with pytest.raises(Invalid) as refused:
        accounts.create_user(session, actor=SYSTEM, username="dana", role="trainer", password=password)
    assert (refused.value.field, refused.value.why) == ("password", "password_guessable")


def test_the_accounts_own_name_counts_as_guessed(session: Session) -> None:
    """Guessable for this account alone: the same password is fine for another."""
    with pytest.raises(Invalid):
        accounts.create_user(session, actor=SYSTEM, username="kvirtanen", role="trainer", password="kvirtanen2026")
    with pytest.raises(Invalid):
        accounts.create_user(
            session,
            actor=SYSTEM,
            username="kv1",
            role="trainer",
            password="Kaisa Virtanen",
            display_name="Kaisa Virtanen",
        )
    assert accounts.create_user(session, actor=SYSTEM, username="mlaine", role="trainer", password="kvirtanen2026 lamp")


def test_a_phrase_of_unrelated_words_passes(session: Session) -> None:
    user = accounts.create_user(session, actor=SYSTEM, username="otto", role="trainer", password=PASSWORD)
    assert accounts.password_matches(user.password_hash, PASSWORD)


def test_a_person_changing_their_password_is_told_in_their_language(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fi"
    sign_in_via_form(client, user, secret)
    refused = post_form(
        client,
        "/account/password",
        {"password": PASSWORD, "new_password": "password1234", "confirm_password": "password1234"},
        token_from="/account/password",
    )
    assert refused.status_code == 422
    assert "liian helppo arvata" in visible_text(refused.get_data(as_text=True))
    assert accounts.password_matches(reloaded(session, user).password_hash, PASSWORD)
