"""The audit trail for compliance: search by actor, action, object and time; page through; export as CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import NamedTuple

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask_babel import gettext

from recordings_service import audit, audit_search
from recordings_service.audit_search import EventFilter
from recordings_service.errors import Invalid
from recordings_service.models import AuditEvent
from recordings_service.permissions import Permission
from recordings_service.spreadsheets import BYTE_ORDER_MARK, SpreadsheetDialect, spreadsheet_safe
from web.access import current_actor, current_can, requires
from web.database import db
from web.i18n import local_time, organisation_zone, spreadsheet_dialect
from web.ui.error_messages import error_message
from web.ui.numbers import whole_number

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "role",
    "action",
    "object_type",
    "object_id",
    "ip",
    "details",
    "hash",
]
# The filter form's fields: the links the page hands out (older events, the export) carry these alone.
FILTER_FIELDS = ("actor", "action", "object_type", "object_id", "since", "until")
# The moments a datetime-local field can show. It blanks any other value (a date alone, a time naming its zone), so
# the form read as unfiltered while the list was (and the next Filter dropped the period): those come in a text field.
LOCAL_INPUT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?")


# Where an event's object has a page: (endpoint, its id argument, the permission the page asks for).
OBJECT_PAGES = {
    "recording": ("call_page.call", "recording_id", Permission.RECORDING_PLAY_REDACTED),
    "user": ("admin.user", "user_id", Permission.USERS_MANAGE),
    "research_batch": ("research.batch", "batch_id", Permission.RESEARCH_MANAGE),
    "subject_request": ("subjects.detail", "request_id", Permission.SUBJECT_REQUESTS),
    "evaluation_form": ("evaluations.form", "form_id", Permission.FORM_MANAGE),
    "training_set": ("training_sets.player", "set_id", Permission.TRAINING_MANAGE),
}
# Details that name calls (a hold's call, the calls a search showed words of, the calls of an export downloaded):
# each links to that call's own trail, as the Object column links the event's object. The reader of this page may
# read any call's trail, so the link shows nothing more than the id beside it.
CALL_DETAILS = ("recording_id", "recording_ids", "snippet_recordings")


@bp.get("/")
@requires(Permission.AUDIT_READ)
def events() -> str | tuple[str, int]:
    # Only the form's own fields: any other argument went into `url_for` as one of its own (`endpoint`: a 500;
    # `_external`, `_scheme`: links elsewhere).
    query = {key: value for key in FILTER_FIELDS if (value := request.args.get(key, ""))}
    actions = audit_search.event_actions(db())
    # Each kind of action (login.*, recording.*) is offered as a prefix filter too.
    kinds = sorted({action.partition(".")[0] + ".*" for action in actions if "." in action})
    choices = {"kinds": kinds, "actions": actions}
    as_text = [name for name in ("since", "until") if query.get(name) and not LOCAL_INPUT.fullmatch(query[name])]
    try:
        filters = _filters()
        before = _before()
    except Invalid as exc:
        # The form comes back as typed with the refusal beside its field, rather than an error page.
        page = render_template(
            "audit/events.html",
            events=[],
            older=None,
            query=query,
            choices=choices,
            as_text=as_text,
            field=exc.field,
            error=error_message(exc),
        )
        return page, 422
    found = audit_search.find_events(db(), filters=filters, before_seq=before, limit=PAGE_SIZE + 1)
    older = found[PAGE_SIZE - 1].seq if len(found) > PAGE_SIZE else None
    # The trail names people and their addresses: reading it is recorded like an export, page by page.
    audit.record_event(
        db(),
        actor=current_actor(),
        action="audit.viewed",
        object_type="audit_events",
        details={**filters.as_details(), "before": before, "shown": len(found[:PAGE_SIZE])},
    )
    db().commit()
    return render_template(
        "audit/events.html",
        events=found[:PAGE_SIZE],
        older=older,
        later_page=before is not None,
        query=query,
        choices=choices,
        as_text=as_text,
        object_url=_object_url,
        detail_parts=_detail_parts,
    )


def _detail_parts(key: str, value: object) -> list[tuple[object, str | None]]:
    """A detail as the page shows it, in pieces of text, each with the link it is (None for plain text): a call id
    (`recording_id`, each of `recording_ids` and of the comma-separated `snippet_recordings`) links to its trail."""
    if key in CALL_DETAILS:
        if isinstance(value, str) and value and all(value.split(",")):
            return _joined([[(call, _trail_url(call))] for call in value.split(",")], ",")
        if isinstance(value, list) and value and all(isinstance(call, str) and call for call in value):
            quoted = [[('"', None), (call, _trail_url(call)), ('"', None)] for call in value]
            return [("[", None), *_joined(quoted, ", "), ("]", None)]
    return [(_detail_value(value), None)]


def _joined(pieces: list[list[tuple[object, str | None]]], separator: str) -> list[tuple[object, str | None]]:
    joined: list[tuple[object, str | None]] = []
    for number, piece in enumerate(pieces):
        if number:
            joined.append((separator, None))
        joined.extend(piece)
    return joined


def _trail_url(object_id: str) -> str:
    """The trail of one object (a call's: its own events and those naming it)."""
    return url_for("audit.events", object_id=object_id)


def _detail_value(value: object) -> object:
    """A detail as the page shows it: a moment (an export's period, a ticket's expiry: stored as UTC ISO text) in
    the organisation's time, as the When column is, UTC on hover; other text as it is; anything else as JSON, the
    form it is stored and exported in (`true`, `null`, `["a", "b"]`, not Python's `True`, `None`, `['a', 'b']`)."""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if "T" not in value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return local_time(moment, seconds=True) if moment.tzinfo is not None else value


def _object_url(event: AuditEvent) -> str | None:
    """The page of the event's object, when it has one the reader may open."""
    target = OBJECT_PAGES.get(event.object_type or "")
    if target is None or not event.object_id:
        return None
    endpoint, argument, permission = target
    return url_for(endpoint, **{argument: event.object_id}) if current_can(permission) else None


@bp.get("/export.csv")
@requires(Permission.AUDIT_READ)
def export() -> Response:
    filters = replace(_filters(), through_seq=audit_search.last_seq(db()))
    # The export is recorded (with what was asked for and how much) before a byte of it leaves.
    audit.record_event(
        db(),
        actor=current_actor(),
        action="audit.exported",
        object_type="audit_events",
        details={**filters.as_details(), "count": audit_search.count_events(db(), filters=filters)},
    )
    db().commit()
    response = Response(stream_with_context(_csv_rows(filters, spreadsheet_dialect())), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


def _csv_rows(filters: EventFilter, dialect: SpreadsheetDialect) -> Iterator[str]:
    buffer = io.StringIO()
    # A spreadsheet then reads it as UTF-8, as the call list's export: names and details kept their "ä" and "ö".
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer, delimiter=dialect.delimiter)
    writer.writerow(CSV_COLUMNS)
    for event in audit_search.iter_events(db(), filters=filters):
        writer.writerow([spreadsheet_safe(value) for value in _row(event)])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _row(event: AuditEvent) -> list[object]:
    record = audit.event_record(event)
    # Letters as written: a Finnish detail reads "säilytys", not "s\u00e4ilytys"; parsed, it is the same JSON.
    record["details"] = json.dumps(record["details"], sort_keys=True, ensure_ascii=False)
    return [record[column] for column in CSV_COLUMNS]


def _filters() -> EventFilter:
    args = request.args
    since, until = _moment("since"), _moment("until")
    if since is not None and until is not None and not _later(until, since):
        # Nothing can match: said beside the field rather than an empty list that looks like a quiet trail.
        raise Invalid("until", gettext("give a time later than From: no event falls between them"))
    return EventFilter(
        actor=args.get("actor", "").strip() or None,
        action=args.get("action", "").strip() or None,
        object_type=args.get("object_type", "").strip() or None,
        object_id=args.get("object_id", "").strip() or None,
        since=since.utc if since is not None else None,
        until=until.utc if until is not None else None,
    )


class _Moment(NamedTuple):
    utc: datetime
    local: datetime | None  # as typed, when it names no zone: a time on the clock the list shows


def _later(until: _Moment, since: _Moment) -> bool:
    """Whether Until is later than From on the clock the list shows, when both are read on it.

    Equal local times in the hour the clock change repeats read as its first (From) and second (Until) passes, an
    hour apart: an Until not later than From was then a window, where any other hour of the year refuses it."""
    if until.local is not None and since.local is not None:
        return until.local > since.local
    return until.utc > since.utc


def _before() -> int | None:
    """The older-events link's `before` (the last event number of the page above), None for the newest events.

    A link hand-edited or cut short is refused: quietly showing the newest events instead reads as if the trail
    had nothing older."""
    raw = request.args.get("before", "").strip()
    if not raw:
        return None
    before = whole_number(raw)
    # A link handed out names the last event of a page with older events below it: 2 at the least, and never past
    # the newest event. `before=0` or a number past the trail's end showed "No events match." or the newest events.
    if before is None or before < 2 or before > audit_search.last_seq(db()):
        raise Invalid("before", "not a link this page handed out", code="invalid_cursor")
    return before


def _moment(name: str) -> _Moment | None:
    """A date or date-time from the filter form, read in the organisation's time zone (the one the list shows times
    in, so a time copied from the list finds its event) when it names no zone.

    A local time the clock change makes ambiguous (03:30 on the last Sunday of October in Helsinki comes twice) or
    skips (03:30 on the last Sunday of March) is read as the earlier of its readings for From and the later for
    Until, so that no event shown at a time between the two is left out."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is not None:
            return _Moment(moment.astimezone(UTC), None)
        local = moment.replace(tzinfo=organisation_zone())
        readings = [local.replace(fold=fold).astimezone(UTC) for fold in (0, 1)]
    except (ValueError, OverflowError):  # not a moment, or one with no UTC equivalent (0001-01-01 in Helsinki)
        raise Invalid(name, gettext("use a date (2025-01-31) or date and time (2025-01-31T14:00)")) from None
    return _Moment(min(readings) if name == "since" else max(readings), moment)
