"""What a new password must be: 12–128 characters and not easily guessed, without composition rules, as NIST SP
800-63B and ASVS advise; and the text a password is, however a keyboard sends its letters (`password_text`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from zxcvbn import zxcvbn

from recordings_service.errors import Invalid

MIN_PASSWORD = 12
MAX_PASSWORD = 128
# zxcvbn's "safely unguessable" (about 10^10 guesses: an offline attack on a slow hash), over at most 72 characters.
_LEAST_SCORE = 3
_ESTIMATED = 72


def password_text(password: str) -> str:
    """The password as it is hashed, checked and counted: its NFKC normal form (NIST SP 800-63B 5.1.1.2).

    One "ä" comes precomposed (U+00E4) from most keyboards and decomposed (a + U+0308) from others and from some
    password managers; a phone's keyboard or a paste may give a no-break space for a space. Hashed as sent, a password
    chosen on one machine was refused typed on another, and each refusal counted towards the lockout.
    """
    return unicodedata.normalize("NFKC", password)


def hashed_texts(password: str) -> list[str]:
    """The texts `password` may have been hashed as: its `password_text`, then as typed where that differs (a hash
    made before passwords were normalised)."""
    normal = password_text(password)
    return [normal] if normal == password else [normal, password]


def may_be_a_password(password: str) -> bool:
    """Whether sign-in should check `password` at all: 1 to 128 characters, counted as the policy counts them (or as
    typed, which a hash made before passwords were normalised was of)."""
    return len(password) > 0 and min(len(password), len(password_text(password))) <= MAX_PASSWORD


def check_password_policy(password: str, *, context: Sequence[str] = ()) -> None:
    """`Invalid` unless `password` has 12–128 characters and is not easily guessed.

    Guessability is zxcvbn's estimate over its lists of common passwords, words and names, keyboard patterns,
    repeats, sequences and dates, and over the `context` words (the account's name): a score under 3 (about 10^10
    guesses) is refused. Only the first `_ESTIMATED` characters are estimated: a longer password is long enough, and
    the estimate's time grows with the length (200 ms at 72 random characters). Characters are counted, and guessed,
    in `password_text`.
    """
    password = password_text(password)
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters", why="password_too_short")
    if len(password) > MAX_PASSWORD:
        raise Invalid("password", f"must be at most {MAX_PASSWORD} characters", why="password_too_long")
    words = ["callvault", *(word for word in context if word)]
    if zxcvbn(password[:_ESTIMATED], user_inputs=words)["score"] < _LEAST_SCORE:
        raise Invalid(
            "password",
            "is too easily guessed (a common password, word or name, a keyboard pattern, repeats, a date, or the "
            "account's own name): use a longer phrase of unrelated words",
            why="password_guessable",
        )
