"""The one translation layer for UI strings: Flask-Babel, English first, Finnish catalogue in web/translations.

Templates write `{{ _("Search calls") }}`; Python code uses `flask_babel.gettext`. The language is the
one the person picked (stored in their session), else the browser's preference among those shipped.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel

LANGUAGES = ("en", "fi")
SESSION_KEY = "lang"


def select_locale() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Helsinki")
