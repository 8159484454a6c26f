"""The call list: filter by metadata and evaluation, search what was said, open a call at the moment it was said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext
from pydantic import ValidationError

from recordings_service.calls import search
from recordings_service.errors import Invalid, invalid_from
from recordings_service.models.recording import RecordingStatus
from recordings_service.permissions import Permission
from recordings_service.transcription.search_index import CONFIG_BY_LANGUAGE
from web.access import current_actor, current_can, requires
from web.database import db
from web.identities import request_agent_names
from web.links import call_url
from web.security_headers import no_store

bp = Blueprint("calls", __name__, url_prefix="/calls")
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
)
STATUSES = [status.value for status in RecordingStatus if status is not RecordingStatus.DELETED]


@bp.get("/")
@requires(Permission.RECORDING_LIST)
@no_store
def index() -> tuple[str, int]:
    form = {name: request.args.get(name, "").strip() for name in FORM_FIELDS}
    knows_agents = current_can(Permission.AGENT_READ)
    if not knows_agents:
        form["agent_ref"] = ""  # a filter by agent would tell who took the calls (the API refuses it too)
    page: search.SearchPage | None = None
    error: Invalid | None = None
    try:
        page = search.search_calls(
            db(),
            actor=current_actor(),
            query=form["q"],
            filters=_filters(form),
            cursor=request.args.get("cursor") or None,
            limit=PAGE_SIZE,
            snippets=current_can(Permission.TRANSCRIPT_READ),
        )
        db().commit()
    except Invalid as exc:
        error = exc
    query = {name: value for name, value in form.items() if value}
    page_html = render_template(
        "calls/list.html",
        form=form,
        page=page,
        error=error,
        query=query,
        languages=sorted(CONFIG_BY_LANGUAGE),
        statuses=STATUSES,
        call_url=call_url,
        clock=clock,
        knows_agents=knows_agents,
        agent=(lambda ref: ref) if knows_agents else request_agent_names(),
        agent_pages=knows_agents and current_can(Permission.EVALUATION_READ),
    )
    return page_html, 422 if error else 200


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
    }
    try:
        return search.SearchFilters.model_validate(values)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def _date(form: dict[str, str], name: str) -> datetime | None:
    if not form[name]:
        return None
    try:
        day = datetime.strptime(form[name], "%Y-%m-%d")
    except ValueError:
        raise Invalid(name, "use a date such as 2025-01-31", code="invalid_date") from None
    return day.replace(tzinfo=UTC)


def _number(form: dict[str, str], name: str) -> float | None:
    if not form[name]:
        return None
    try:
        return float(form[name].replace(",", "."))
    except ValueError:
        raise Invalid(name, "enter a number from 0 to 100", code="invalid_number") from None
