"""The one translation layer for UI strings: Flask-Babel, English first, Finnish catalogue in web/translations.

Templates write `{{ _("Search calls") }}`; Python code uses `flask_babel.gettext`. The language is the
one the person picked (stored in their session by `POST /language`), else the browser's preference among
those shipped. The catalogue is re-extracted, updated and compiled with `make translations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from werkzeug.wrappers import Response

from recordings_service.decimals import one_decimal
from recordings_service.errors import Invalid
from recordings_service.evaluations import plans
from recordings_service.models.account import Role
from recordings_service.models.privacy import PeriodUnit, SubjectRequestKind
from recordings_service.models.recording import Purpose, RecordingStatus
from recordings_service.privacy.retention import RetentionRule
from recordings_service.redaction.findings import PiiKind
from recordings_service.spreadsheets import COMMAS, SEMICOLONS, SpreadsheetDialect
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
SECONDS_PATTERNS = {"en": "yyyy-MM-dd HH:mm:ss", "fi": "d.M.yyyy 'klo' H.mm.ss"}
DATE_PATTERNS = {"en": "yyyy-MM-dd", "fi": "d.M.yyyy"}

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
# Who speaks in a transcript's segment.
SPEAKER_LABELS: dict[str, LazyString] = {"agent": _l("Agent"), "customer": _l("Customer"), "unknown": _l("Speaker")}
ROLE_LABELS: dict[str, LazyString] = {
    Role.ADMIN: _l("administrator"),
    Role.COMPLIANCE: _l("compliance officer"),
    Role.QA_SUPERVISOR: _l("QA supervisor"),
    Role.TRAINER: _l("trainer"),
    Role.RESEARCH_PARTNER: _l("research partner"),
    Role.SERVICE: _l("service account"),
    Role.AGENT: _l("agent"),
}
PURPOSE_LABELS: dict[str, LazyString] = {
    Purpose.VERIFICATION: _l("verification"),
    Purpose.TRAINING: _l("training"),
    Purpose.QUALITY_STUDY: _l("quality study"),
}
# The stored keys of the policy table, the receipts' kinds and what they count, as people read them.
# The three purposes' rules are the purposes themselves.
RULE_LABELS: dict[str, LazyString] = {
    **PURPOSE_LABELS,
    RetentionRule.NO_AGREEMENT: _l("no agreement made"),
    RetentionRule.MAXIMUM: _l("global maximum"),
}
UNIT_LABELS: dict[str, LazyString] = {PeriodUnit.DAYS: _l("days"), PeriodUnit.MONTHS: _l("months")}
RECEIPT_KINDS: dict[str, LazyString] = {"sweep": _l("retention sweep"), "erasure": _l("erasure")}
RECEIPT_COUNTS: dict[str, LazyString] = {
    "recordings": _l("recordings"),
    "kept": _l("recordings kept"),
    "erasure": _l("recordings an erasure kept until their duty ended"),
    "kept_restricted": _l("recordings past retention kept by a restriction of processing"),
    "access_packages": _l("access packages"),
    "data_keys": _l("data keys"),
    "object_versions": _l("stored object versions"),
    "orphan_object_versions": _l("orphaned object versions"),
    "from_interrupted_runs": _l("recordings of interrupted runs"),
    "transcripts": _l("transcripts"),
    "segment_verifications": _l("verified segments"),
    "annotations": _l("comments"),
    "transcription_jobs": _l("transcription jobs"),
    "evaluation_comments": _l("evaluation comments"),
    "calibration_comments": _l("calibration comments"),
    "call_tags": _l("call tags"),
    "training_nominations": _l("training nominations"),
    "training_clips": _l("training clips"),
}


# A data-subject request's kind, in lists, the kind select and the dashboard.
REQUEST_KIND_LABELS: dict[str, LazyString] = {
    SubjectRequestKind.ACCESS: _l("access"),
    SubjectRequestKind.OBJECTION: _l("objection"),
    SubjectRequestKind.RECTIFICATION: _l("rectification"),
    SubjectRequestKind.RESTRICTION: _l("restriction"),
    SubjectRequestKind.ERASURE: _l("erasure"),
}
# The kinds of personal data redaction finds, where the call page lists what was redacted and when.
PII_KIND_LABELS: dict[str, LazyString] = {
    PiiKind.PERSONAL_ID: _l("personal identity code"),
    PiiKind.CARD: _l("payment card number"),
    PiiKind.CARD_SECURITY_CODE: _l("card security code"),
    PiiKind.CARD_EXPIRY: _l("card expiry date"),
    PiiKind.IBAN: _l("bank account number (IBAN)"),
    PiiKind.PHONE: _l("phone number"),
    PiiKind.EMAIL: _l("e-mail address"),
    PiiKind.CUSTOMER_NUMBER: _l("customer number"),
    PiiKind.PERSON: _l("person's name"),
    PiiKind.ADDRESS: _l("street address"),
}
# The seeded evaluation form (recordings_service/evaluations/default_form.py) is stored in English, as
# written; its texts are translated when shown (tests/evaluations/test_finnish_pages.py keeps this list complete).
# A form someone wrote shows as written.
FORM_TEXTS: dict[str, LazyString] = {
    "Customer service call (energy retail)": _l("Customer service call (energy retail)"),
    "Standard quality form for inbound and outbound calls about electricity contracts.": _l(
        "Standard quality form for inbound and outbound calls about electricity contracts."
    ),
    "Opening": _l("Opening"),
    "Greeted the customer and gave own name and the company's name": _l(
        "Greeted the customer and gave own name and the company's name"
    ),
    "Told the customer that the call is recorded, and why (GDPR notice)": _l(
        "Told the customer that the call is recorded, and why (GDPR notice)"
    ),
    "Identification": _l("Identification"),
    ("Verified the customer's identity (name and customer number or address) before discussing the account"): _l(
        "Verified the customer's identity (name and customer number or address) before discussing the account"
    ),
    "Needs analysis": _l("Needs analysis"),
    "Asked open questions to find out what the customer needs": _l(
        "Asked open questions to find out what the customer needs"
    ),
    "Summarised the need back to the customer": _l("Summarised the need back to the customer"),
    "Offer and agreement": _l("Offer and agreement"),
    ("Gave correct price and contract information (energy price, monthly fee, term, cancellation terms)"): _l(
        "Gave correct price and contract information (energy price, monthly fee, term, cancellation terms)"
    ),
    ("Confirmed the agreement explicitly: the customer accepted the named product, price and start date"): _l(
        "Confirmed the agreement explicitly: the customer accepted the named product, price and start date"
    ),
    "Closing": _l("Closing"),
    "Explained the next steps (written confirmation, start date, 14-day right of withdrawal)": _l(
        "Explained the next steps (written confirmation, start date, 14-day right of withdrawal)"
    ),
    "Tone and courtesy throughout the call": _l("Tone and courtesy throughout the call"),
    "Closed the call politely and asked whether anything else was needed": _l(
        "Closed the call politely and asked whether anything else was needed"
    ),
}

# The bases migration 0012 seeded the retention policies with, stored in English as written for the Art. 30 record (its
# CSV keeps them so); shown in the reader's language until compliance writes a basis of its own.
BASIS_TEXTS: dict[str, LazyString] = {
    (
        "Evidence of an agreement made on the call: claims under it become time-barred three years after they "
        "fall due (Limitation of Debts Act 728/2003, s. 4). GDPR Art. 6(1)(b) and 6(1)(f)."
    ): _l(
        "Evidence of an agreement made on the call: claims under it become time-barred three years after they "
        "fall due (Limitation of Debts Act 728/2003, s. 4). GDPR Art. 6(1)(b) and 6(1)(f)."
    ),
    "Quality assurance and development of customer service. Legitimate interest, GDPR Art. 6(1)(f).": _l(
        "Quality assurance and development of customer service. Legitimate interest, GDPR Art. 6(1)(f)."
    ),
    "Training of customer-service agents on recent calls. Legitimate interest, GDPR Art. 6(1)(f).": _l(
        "Training of customer-service agents on recent calls. Legitimate interest, GDPR Art. 6(1)(f)."
    ),
    (
        "A call in which no agreement was made and that serves no other purpose: kept to handle complaints and "
        "questions about the call. Legitimate interest, GDPR Art. 6(1)(f)."
    ): _l(
        "A call in which no agreement was made and that serves no other purpose: kept to handle complaints and "
        "questions about the call. Legitimate interest, GDPR Art. 6(1)(f)."
    ),
    (
        "Global ceiling: no recording is kept longer than ten years from the call, whatever its purposes "
        "(storage limitation, GDPR Art. 5(1)(e))."
    ): _l(
        "Global ceiling: no recording is kept longer than ten years from the call, whatever its purposes "
        "(storage limitation, GDPR Art. 5(1)(e))."
    ),
}


def form_text(text: str) -> str:
    """A text of the seeded form in the reader's language; any other text as written."""
    label = FORM_TEXTS.get(text)
    return str(label) if label is not None else text


LABEL_FILTERS = {
    "status_label": STATUS_LABELS,
    "direction_label": DIRECTION_LABELS,
    "speaker_label": SPEAKER_LABELS,
    "role_label": ROLE_LABELS,
    "purpose_label": PURPOSE_LABELS,
    "form_text": FORM_TEXTS,
    "retention_rule": RULE_LABELS,
    "period_unit": UNIT_LABELS,
    "receipt_kind": RECEIPT_KINDS,
    "receipt_count": RECEIPT_COUNTS,
    "request_kind": REQUEST_KIND_LABELS,
    "pii_kind": PII_KIND_LABELS,
    "basis_text": BASIS_TEXTS,
}


def select_locale() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def spreadsheet_dialect() -> SpreadsheetDialect:
    """The CSV separators the reader's spreadsheet opens a download with: where numbers take a decimal comma, lists
    are separated by semicolons (Excel follows the locale so; Finnish is one)."""
    return SEMICOLONS if format_decimal(0.5) == "0,5" else COMMAS


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


def organisation_zone() -> ZoneInfo:
    """CALLVAULT_TIMEZONE, in which days and ISO weeks (trends, assignments' due dates, plans) begin."""
    return runtime().settings.zone


def organisation_moment(moment: datetime, *, field: str, fold: int = 0) -> datetime:
    """A moment typed into a form's `field`, in UTC: read as the organisation's time (the one pages show) when it
    names no zone. OverflowError when it has no UTC equivalent (0001-01-01 in Helsinki).

    A time the clocks skip there (03:30 on the last Sunday of March in Helsinki) is refused; one they pass twice (03:30
    on the last Sunday of October) is its first reading (summer time), or its second with `fold` 1: what the form
    says it was filled in with, so that a moment shown on a form reads back as itself."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    zone = organisation_zone()
    utc = moment.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    # Python reads a skipped time with the offset before (or after) the change, an hour from what was typed.
    if utc.astimezone(zone).replace(tzinfo=None) != moment:
        message = gettext(
            "%(time)s does not exist in %(zone)s (the clocks are put forward past it): give a time before or after "
            "the change",
            time=moment.strftime("%Y-%m-%d %H:%M"),
            zone=zone.key,
        )
        raise Invalid(field, message, code="out_of_range", why="nonexistent_time")
    return utc


def organisation_today() -> date:
    """Today where the organisation is: an assignment due today is not overdue, a request received today not future."""
    return datetime.now(organisation_zone()).date()


def local_time(value: datetime, seconds: bool = False) -> Markup:
    """A stored UTC time as the organisation reads it, in a <time> element that shows UTC on hover."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    language = str(get_locale() or LANGUAGES[0])
    patterns = SECONDS_PATTERNS if seconds else TIME_PATTERNS
    shown = format_datetime(utc, patterns.get(language, patterns[LANGUAGES[0]]))
    return Markup('<time datetime="{iso}" title="{hover} UTC">{shown}</time>').format(
        iso=utc.strftime("%Y-%m-%dT%H:%M:%SZ"), hover=utc.strftime("%Y-%m-%d %H:%M"), shown=shown
    )


def local_date(value: datetime | date) -> Markup:
    """The day of a stored UTC time in the organisation's time zone (a plain date as it is), UTC on hover."""
    language = str(get_locale() or LANGUAGES[0])
    pattern = DATE_PATTERNS.get(language, DATE_PATTERNS[LANGUAGES[0]])
    if not isinstance(value, datetime):
        return Markup('<time datetime="{iso}">{shown}</time>').format(
            iso=value.isoformat(), shown=format_date(value, pattern)
        )
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return Markup('<time datetime="{iso}" title="{hover} UTC">{shown}</time>').format(
        iso=utc.strftime("%Y-%m-%dT%H:%M:%SZ"), hover=utc.strftime("%Y-%m-%d %H:%M"), shown=format_date(utc, pattern)
    )


def decimal(value: float | None) -> str:
    """A score or share with one decimal in the reader's language (76.5, Finnish 76,5); "—" for none."""
    return "—" if value is None else format_decimal(one_decimal(value), format="0.0")


def signed_decimal(value: float | None) -> str:
    """A difference with one decimal and its sign in the reader's language (+20.8, Finnish +20,8); "—" for none."""
    return "—" if value is None else format_decimal(one_decimal(value), format="+0.0;-0.0")


def language_label(code: str | None) -> str:
    """A call's language code as its name in the reader's language (Babel's CLDR data: "en" → "englanti")."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(str(get_locale() or LANGUAGES[0]))
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


def week_label(monday: date) -> str:
    """An ISO week as people read it: "Week 48, 2026" (Finnish "Viikko 48, 2026")."""
    year, week, _ = monday.isocalendar()
    return gettext("Week %(week)s, %(year)s", week=week, year=year)


def plan_week_label(week: str) -> str:
    """A plan's ISO week as stored ("2026-W49") as people read it, as `week_label` writes it; anything else as it is."""
    try:
        return week_label(plans.week_monday(week))
    except Invalid:
        return week


def _labeller(labels: Mapping[str, LazyString]) -> Callable[[str], str]:
    def label(value: str) -> str:
        return str(labels.get(value, value))

    return label


def _template_globals() -> dict[str, Any]:
    return {
        "current_language": str(get_locale() or LANGUAGES[0]),
        "language_names": LANGUAGE_NAMES,
        "language_return_to": current_page,
        "organisation_timezone": organisation_timezone,
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale, timezone_selector=organisation_timezone)
    app.context_processor(_template_globals)
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(week_label, "week_label")
    app.add_template_filter(plan_week_label, "plan_week_label")
    app.add_template_filter(decimal, "decimal")
    app.add_template_filter(signed_decimal, "signed_decimal")
    app.add_template_filter(language_label, "language_label")
    for name, labels in LABEL_FILTERS.items():
        app.add_template_filter(_labeller(labels), name)
