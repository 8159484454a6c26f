"""The call list's filter form: its fields as typed, checked in the reader's language, and named as the page
names them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from recordings_service.calls import search
from recordings_service.calls.transcript_matches import MAX_QUERY_CHARS, checked_words
from recordings_service.decimals import highest_shown_at_most, lowest_shown_at_least
from recordings_service.errors import Invalid, invalid_from
from recordings_service.permissions import Permission
from recordings_service.recordings import LANGUAGES
from web.access import current_can
from web.database import runtime
from web.i18n import language_label
from web.ui.error_messages import error_message

# The dates the filter takes: any call Callvault holds, far from where day arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 1900, 9998
FORM_FIELDS = (
    "q",
    "date_from",
    "date_to",
    "queue",
    "agent_ref",
    "language",
    "direction",
    "status",
    "evaluated",
    "assigned",
    "score_min",
    "score_max",
    "tag",
)
FILTER_MESSAGES = {
    "out_of_range": _l("must not be below the minimum score"),
    "greater_than_equal": _l("enter a number from 0 to 100"),
    "less_than_equal": _l("enter a number from 0 to 100"),
    "invalid_length": _l("too long"),
}
# The fields as a refusal names them.
FIELD_LABELS = {
    "q": _l("Words said in the call"),
    "date_from": _l("From"),
    "date_to": _l("To"),
    "queue": _l("Queue"),
    "agent_ref": _l("Agent"),
    "language": _l("Language"),
    "direction": _l("Direction"),
    "status": _l("Transcription status"),
    "evaluated": _l("Evaluated"),
    "assigned": _l("On a supervisor's list"),
    "score_min": _l("Score from"),
    "score_max": _l("Score to"),
    "tag": _l("Tag"),
    "cursor": _l("Page"),
    "before": _l("Page"),
    "offset": _l("Page"),
}
# The languages calls are stored with, the named ones first; "auto": the telephony system left it to detection.
FILTER_LANGUAGES = sorted(LANGUAGES, key=lambda code: (code == "auto", code))
AUTO_LANGUAGE = _l("Detected automatically")


def form_of(values: Mapping[str, str]) -> dict[str, str]:
    """The filter form's fields as typed (a URL's query, or a saved search's)."""
    form = {name: values.get(name, "").strip() for name in FORM_FIELDS}
    if not current_can(Permission.AGENT_READ):
        form["agent_ref"] = ""  # a filter by agent would tell who took the calls (the API refuses it too)
    if not current_can(Permission.EVALUATION_WRITE):
        form["assigned"] = ""  # offered to those who assign calls: nobody else could see or clear it
    if not current_can(Permission.EVALUATION_READ):
        form["tag"] = ""  # staff's free-text notes on calls, read as comments are (a tag may name the customer)
    return form


def checked_search(form: dict[str, str]) -> None:
    """Refuse a search the list would refuse (its filters, or words that are no words), as the list says it."""
    filters(form)
    try:
        checked_words(form["q"])
    except Invalid as exc:
        raise in_reader_language(exc) from None


def language_name(code: str) -> str:
    """A call's language as the list names it, "auto" included (no language has that code)."""
    return str(AUTO_LANGUAGE) if code == "auto" else language_label(code)


def filters(form: dict[str, str]) -> search.SearchFilters:
    """The form's values (local formats: days, "yes"/"no", decimal commas) as the search's filter model."""
    date_from, date_to = _date(form, "date_from"), _date(form, "date_to")
    if date_from and date_to and date_from > date_to:
        raise Invalid("date_to", gettext("must not be before the from date"), code="out_of_range")
    values = {
        "started_from": date_from,
        # The form's "to" day is inclusive.
        "started_to": date_to + timedelta(days=1) if date_to else None,
        "queue": form["queue"] or None,
        "agent_ref": form["agent_ref"] or None,
        "language": form["language"] or None,
        "direction": form["direction"] or None,
        "status": form["status"] or None,
        "evaluated": _yes_or_no(form, "evaluated"),
        "assigned": _yes_or_no(form, "assigned"),
        "score_min": _number(form, "score_min"),
        "score_max": _number(form, "score_max"),
        "tag": form["tag"] or None,
    }
    try:
        checked = search.SearchFilters.model_validate(values)
    except ValidationError as exc:
        invalid = invalid_from(exc)
        # The model's messages are English; the ones a person can cause here are said in their language.
        message = FILTER_MESSAGES.get(invalid.code)
        raise Invalid(invalid.field, str(message) if message else error_message(invalid), code=invalid.code) from None
    # The list shows scores to a tenth: a bound typed from it takes every score shown as within it.
    shown = {
        "score_min": None if checked.score_min is None else lowest_shown_at_least(checked.score_min),
        "score_max": None if checked.score_max is None else highest_shown_at_most(checked.score_max),
    }
    return checked.model_copy(update=shown)


def _yes_or_no(form: dict[str, str], name: str) -> bool | None:
    """A select of Any, yes and no; a value it does not offer is refused like any other filter, not read as Any."""
    choices = {"": None, "yes": True, "no": False}
    if form[name] not in choices:
        raise Invalid(name, gettext("choose one of the options offered"), code="invalid_choice")
    return choices[form[name]]


def in_reader_language(exc: Invalid) -> Invalid:
    """A refusal of the search as the page says it (the core's messages are English): the words box's own, else as
    every page says the error (a cursor edited or out of date, a status or direction not offered)."""
    if exc.field == "q" and exc.code == "no_words":
        message = gettext("enter at least one word: letters or digits, not only punctuation or wildcards")
    elif exc.field == "q" and exc.code == "too_long":
        message = gettext("at most %(num)d characters", num=MAX_QUERY_CHARS)
    else:
        message = error_message(exc)
    return Invalid(exc.field or "q", message, code=exc.code)


def _date(form: dict[str, str], name: str) -> datetime | None:
    if not form[name]:
        return None
    try:
        day = datetime.strptime(form[name], "%Y-%m-%d")
    except ValueError:
        raise Invalid(name, gettext("use a date such as 2025-01-31"), code="invalid_date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # 0001-01-01 and 9999-12-31 overflowed the day arithmetic (500s)
        raise Invalid(name, gettext("use a date such as 2025-01-31"), code="out_of_range")
    # A day of the organisation's calendar (CALLVAULT_TIMEZONE), as the list shows the calls' times.
    return day.replace(tzinfo=runtime().settings.zone)


def _number(form: dict[str, str], name: str) -> float | None:
    if not form[name]:
        return None
    try:
        number = float(form[name].replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise Invalid(name, gettext("enter a number from 0 to 100"), code="invalid_number")
    return number
