"""The call list: filter by metadata and evaluation, search what was said, open a call at the moment it was said.

Sortable by column, with saved searches per person and bulk actions on the chosen calls (assign, tag,
export CSV).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.wrappers import Response

from recordings_service import accounts
from recordings_service.calls import list_export, saved_searches, search, tags
from recordings_service.calls.transcript_matches import MAX_QUERY_CHARS
from recordings_service.errors import Invalid, invalid_from
from recordings_service.evaluations import assignments
from recordings_service.models.recording import RecordingStatus
from recordings_service.permissions import Permission
from recordings_service.transcription.search_index import CONFIG_BY_LANGUAGE
from web.access import current_actor, current_can, requires
from web.database import db, runtime
from web.i18n import organisation_today
from web.identities import request_agent_names
from web.links import call_url
from web.security_headers import mark_no_store, no_store
from web.ui.error_messages import error_message, flash_error
from web.ui.numbers import whole_number

bp = Blueprint("calls", __name__, url_prefix="/calls")
# The dates the filter takes: any call Callvault holds, far from where day arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 1900, 9998
PAGE_SIZE = 50
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
# Sorting is part of a search (it is saved with it); paging is not, but a bulk action returns to its page.
SORT_FIELDS = ("sort", "dir")
PAGING_FIELDS = ("cursor", "offset")
STATUSES = [status.value for status in RecordingStatus if status is not RecordingStatus.DELETED]


@bp.get("/")
@requires(Permission.RECORDING_LIST)
@no_store
def index() -> tuple[str, int]:
    form = {name: request.args.get(name, "").strip() for name in FORM_FIELDS}
    knows_agents = current_can(Permission.AGENT_READ)
    if not knows_agents:
        form["agent_ref"] = ""  # a filter by agent would tell who took the calls (the API refuses it too)
    sort, descending = _sort(knows_agents)
    page: search.SearchPage | None = None
    error: Invalid | None = None
    actor = current_actor()
    try:
        filters = _filters(form)  # refused in the reader's language already
        try:
            page = search.search_calls(
                db(),
                actor=actor,
                query=form["q"],
                filters=filters,
                cursor=request.args.get("cursor") or None,
                limit=PAGE_SIZE,
                snippets=current_can(Permission.TRANSCRIPT_READ),
                sort=sort,
                descending=descending,
                offset=_offset(),
            )
        except Invalid as exc:
            raise _in_reader_language(exc) from None
        db().commit()
    except Invalid as exc:
        error = exc
    query = {name: value for name, value in form.items() if value}
    if (sort, descending) != ("started", True):
        query.update(sort=sort, dir="desc" if descending else "asc")
    ids = [item.recording.id for item in page.items] if page else []
    page_html = render_template(
        "calls/list.html",
        form=form,
        page=page,
        error=error,
        query=query,
        query_string=urlencode(query),
        this_page=urlencode(
            {**query, **{name: request.args[name] for name in PAGING_FIELDS if request.args.get(name)}}
        ),
        sort=sort,
        descending=descending,
        sort_url=lambda column: _sort_url(query, column, sort=sort, descending=descending),
        languages=sorted(CONFIG_BY_LANGUAGE),
        statuses=STATUSES,
        call_url=call_url,
        clock=clock,
        knows_agents=knows_agents,
        agent=(lambda ref: ref) if knows_agents else request_agent_names(),
        agent_pages=knows_agents and current_can(Permission.EVALUATION_READ),
        shows_evaluator=current_can(Permission.EVALUATION_READ),
        tags=tags.tags_of(db(), ids),
        queues=search.known_values(db(), actor=actor, field="queue"),
        agents=search.known_values(db(), actor=actor, field="agent_ref") if knows_agents else [],
        saved=saved_searches.saved_searches(db(), actor=actor) if actor.id else [],
        can_tag=current_can(Permission.ANNOTATION_WRITE),
        can_export=current_can(Permission.EVIDENCE_EXPORT),
        can_assign=current_can(Permission.EVALUATION_WRITE),
        evaluators=[user for user in accounts.list_users(db()) if assignments.can_evaluate(user)]
        if current_can(Permission.EVALUATION_WRITE)
        else [],
    )
    return page_html, 422 if error else 200


@bp.post("/tag")
@requires(Permission.ANNOTATION_WRITE)
def tag() -> Response:
    """Put one tag on the chosen calls."""
    try:
        added = tags.tag_calls(db(), actor=current_actor(), recording_ids=_chosen(), tag=request.form.get("tag", ""))
    except Invalid as exc:
        return _back_with_error(exc)
    db().commit()
    flash(ngettext("Tagged %(num)d call.", "Tagged %(num)d calls.", added))
    return _back()


@bp.post("/untag")
@requires(Permission.ANNOTATION_WRITE)
def untag() -> Response:
    """Take one tag off the chosen calls (a tag put on by mistake, or no longer true)."""
    try:
        removed = tags.untag_calls(
            db(), actor=current_actor(), recording_ids=_chosen(), tag=request.form.get("tag", "")
        )
    except Invalid as exc:
        return _back_with_error(exc)
    db().commit()
    flash(ngettext("Removed the tag from %(num)d call.", "Removed the tag from %(num)d calls.", removed))
    return _back()


@bp.post("/export.csv")
@requires(Permission.EVIDENCE_EXPORT)
def export() -> Response:
    """The chosen calls' metadata as CSV (no transcript text); each call exported is audited."""
    try:
        text = list_export.export_calls_csv(db(), actor=current_actor(), recording_ids=_chosen())
    except Invalid as exc:
        return _back_with_error(exc)
    db().commit()
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="calls.csv"'
    return mark_no_store(response)


@bp.post("/assign")
@requires(Permission.EVALUATION_WRITE)
def assign() -> Response:
    """Put the chosen calls on a supervisor's "to evaluate" list."""
    try:
        due = _due(request.form.get("due", "").strip())
        made = assignments.assign_calls(
            db(),
            actor=current_actor(),
            recording_ids=_chosen(),
            assignee_id=request.form.get("assignee_id", ""),
            today=organisation_today(),
            due=due,
        )
    except Invalid as exc:
        return _back_with_error(exc)
    db().commit()
    flash(ngettext("Assigned %(num)d call.", "Assigned %(num)d calls.", len(made)))
    return _back()


@bp.post("/saved-searches")
@requires(Permission.RECORDING_LIST)
def save_search() -> Response:
    """Keep the list's current filter (and sort) under a name, for its owner only."""
    try:
        saved_searches.save_search(
            db(), actor=current_actor(), name=request.form.get("name", ""), query=request.form.get("back", "")
        )
    except Invalid as exc:
        return _back_with_error(exc)
    db().commit()
    flash(gettext("Search saved."))
    return _back()


@bp.post("/saved-searches/<search_id>/delete")
@requires(Permission.RECORDING_LIST)
def delete_search(search_id: str) -> Response:
    saved_searches.delete_saved_search(db(), actor=current_actor(), search_id=search_id)
    db().commit()
    flash(gettext("Saved search deleted."))
    return _back()


def _chosen() -> list[str]:
    """The calls ticked on the list, or every call of the page with "select all on page"."""
    if request.form.get("all_on_page"):
        return request.form.getlist("page_id")
    return request.form.getlist("recording_id")


def _due(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("due", gettext("use a date such as 2025-01-31"), code="invalid_date") from None


def _back() -> Response:
    """Back to the call list as it was (its filters, sort and page come along in the form's `back`)."""
    kept = FORM_FIELDS + SORT_FIELDS + PAGING_FIELDS
    pairs = [(key, value) for key, value in parse_qsl(request.form.get("back", "")) if key in kept]
    target = url_for("calls.index")
    return redirect(f"{target}?{urlencode(pairs)}" if pairs else target)


def _back_with_error(exc: Invalid) -> Response:
    db().rollback()
    flash_error(exc)
    return _back()


def _sort(knows_agents: bool) -> tuple[str, bool]:
    sort = request.args.get("sort", "started")
    if sort not in search.SORTS or (sort == "agent" and not knows_agents):
        sort = "started"
    return sort, request.args.get("dir", "desc") != "asc"


def _offset() -> int:
    return whole_number(request.args.get("offset")) or 0


def _sort_url(query: dict[str, str], column: str, *, sort: str, descending: bool) -> str:
    """The list sorted by `column`: the other direction when it is the current sort, else its natural one."""
    if column == sort:
        direction = "asc" if descending else "desc"
    else:
        direction = "asc" if column in ("queue", "agent") else "desc"
    return url_for("calls.index", **{**query, "sort": column, "dir": direction})


def clock(seconds: float) -> str:
    """Seconds into a call as m:ss (h:mm:ss past an hour)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _filters(form: dict[str, str]) -> search.SearchFilters:
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
        "evaluated": {"yes": True, "no": False}.get(form["evaluated"]),
        "score_min": _number(form, "score_min"),
        "score_max": _number(form, "score_max"),
        "tag": form["tag"] or None,
    }
    try:
        return search.SearchFilters.model_validate(values)
    except ValidationError as exc:
        invalid = invalid_from(exc)
        # The model's messages are English; the ones a person can cause here are said in their language.
        message = FILTER_MESSAGES.get(invalid.code)
        raise Invalid(invalid.field, str(message) if message else error_message(invalid), code=invalid.code) from None


def _in_reader_language(exc: Invalid) -> Invalid:
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
    return day.replace(tzinfo=ZoneInfo(runtime().settings.timezone))


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
