"""The one translation layer for UI strings: Flask-Babel, English first, Finnish catalogue in web/translations.

Templates write `{{ _("Search calls") }}`; Python code uses `flask_babel.gettext`. The language is the
one the person picked (stored in their session by `POST /language`), else the browser's preference among
those shipped. The catalogue is re-extracted, updated and compiled with `make translations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from werkzeug.wrappers import Response

from recordings_service.errors import Invalid
from recordings_service.models.account import Role
from recordings_service.models.recording import Purpose, RecordingStatus
from web.access import public
from web.database import runtime
from web.links import safe_next

LANGUAGES = ("en", "fi")
SESSION_KEY = "lang"
# Each language named in itself, as a language menu shows it.
LANGUAGE_NAMES = {"en": "English", "fi": "Suomi"}
# How a time reads in each language (CLDR patterns); English keeps ISO dates so that a 24-hour
# organisation is not shown 12-hour times by Babel's American default.
TIME_PATTERNS = {"en": "yyyy-MM-dd HH:mm", "fi": "d.M.yyyy 'klo' H.mm"}

bp = Blueprint("i18n", __name__)

# Stored values (kept in English in the database, the API and the audit trail) as people read them, in
# templates through the filters named in LABEL_FILTERS; a value not listed here shows as stored.
STATUS_LABELS: dict[str, LazyString] = {
    RecordingStatus.STORED: _l("stored"),
    RecordingStatus.TRANSCRIBING: _l("transcribing"),
    RecordingStatus.TRANSCRIBED: _l("transcribed"),
    RecordingStatus.FAILED: _l("failed"),
    RecordingStatus.DELETED: _l("deleted"),
    RecordingStatus.MISSING_OBJECT: _l("audio missing from the store"),
}
DIRECTION_LABELS: dict[str, LazyString] = {"inbound": _l("inbound"), "outbound": _l("outbound")}
ROLE_LABELS: dict[str, LazyString] = {
    Role.ADMIN: _l("administrator"),
    Role.COMPLIANCE: _l("compliance officer"),
    Role.QA_SUPERVISOR: _l("QA supervisor"),
    Role.TRAINER: _l("trainer"),
    Role.RESEARCH_PARTNER: _l("research partner"),
    Role.SERVICE: _l("service account"),
}
PURPOSE_LABELS: dict[str, LazyString] = {
    Purpose.VERIFICATION: _l("verification"),
    Purpose.TRAINING: _l("training"),
    Purpose.QUALITY_STUDY: _l("quality study"),
}
LABEL_FILTERS = {
    "status_label": STATUS_LABELS,
    "direction_label": DIRECTION_LABELS,
    "role_label": ROLE_LABELS,
    "purpose_label": PURPOSE_LABELS,
}


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


def organisation_timezone() -> str:
    return runtime().settings.timezone


def local_time(value: datetime) -> Markup:
    """A stored UTC time as the organisation reads it, in a <time> element that shows UTC on hover."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    language = str(get_locale() or LANGUAGES[0])
    shown = format_datetime(utc, TIME_PATTERNS.get(language, TIME_PATTERNS[LANGUAGES[0]]))
    return Markup('<time datetime="{iso}" title="{hover} UTC">{shown}</time>').format(
        iso=utc.strftime("%Y-%m-%dT%H:%M:%SZ"), hover=utc.strftime("%Y-%m-%d %H:%M"), shown=shown
    )


def _labeller(labels: Mapping[str, LazyString]) -> Callable[[str], str]:
    def label(value: str) -> str:
        return str(labels.get(value, value))

    return label


def _template_globals() -> dict[str, Any]:
    return {
        "current_language": str(get_locale() or LANGUAGES[0]),
        "language_names": LANGUAGE_NAMES,
        "language_return_to": current_page,
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale, timezone_selector=organisation_timezone)
    app.context_processor(_template_globals)
    app.add_template_filter(local_time, "local_time")
    for name, labels in LABEL_FILTERS.items():
        app.add_template_filter(_labeller(labels), name)
