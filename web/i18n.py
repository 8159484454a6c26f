"""The one translation layer for UI strings: Flask-Babel, English first, Finnish catalogue in web/translations.

Templates write `{{ _("Search calls") }}`; Python code uses `flask_babel.gettext`. The language is the
one the person picked (stored in their session by `POST /language`), else the browser's preference among
those shipped. The catalogue is re-extracted, updated and compiled with `make translations`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from recordings_service.errors import Invalid
from web.access import public
from web.links import safe_next

LANGUAGES = ("en", "fi")
SESSION_KEY = "lang"
# Each language named in itself, as a language menu shows it.
LANGUAGE_NAMES = {"en": "English", "fi": "Suomi"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def current_page() -> str:
    """Where the language form sends the person back to: this page (a GET one), without its query string.

    The query can hold search words, which the page must not echo into every form (trainers see no snippets).
    """
    if request.method == "GET":
        return request.path
    return url_for("ui.index")


@bp.post("/language")
@public
def choose() -> Response:
    """Store the chosen UI language in the session (signed-in or not) and go back to where the form was."""
    chosen = request.form.get("lang", "")
    if chosen not in LANGUAGES:
        raise Invalid("lang", f"Unknown language; choose one of: {', '.join(LANGUAGES)}.")
    session[SESSION_KEY] = chosen
    return redirect(safe_next(request.form.get("next"), url_for("ui.index")))


def _template_globals() -> dict[str, Any]:
    return {
        "current_language": str(get_locale() or LANGUAGES[0]),
        "language_names": LANGUAGE_NAMES,
        "language_return_to": current_page,
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Helsinki")
    app.context_processor(_template_globals)
