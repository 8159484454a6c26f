"""The call list: filter by metadata and evaluation, search what was said, open a call at the moment it was said.

Sortable by column, with saved searches per person and bulk actions on the chosen calls (assign, tag,
export CSV). The filter form is read and checked by `web.ui.call_filters`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from recordings_service import accounts
from recordings_service.calls import list_export, saved_searches, search, tags
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.evaluations import assignments, holding
from recordings_service.models import User
from recordings_service.models.recording import RecordingStatus
from recordings_service.permissions import Permission
from web.access import current_actor, current_can, requires
from web.database import db
from web.i18n import organisation_today, spreadsheet_dialect
from web.identities import request_agent_names, training_rules
from web.links import call_url
from web.ui import call_filters
from web.ui.error_messages import flash_error
from web.ui.form_dates import optional_date
from web.ui.numbers import whole_number
from web.ui.refused_form import RefusedForm, refused_form

bp = Blueprint("calls", __name__, url_prefix="/calls")
PAGE_SIZE = 50
# Sorting is part of a search (it is saved with it); paging is not, but a bulk action returns to its page.
SORT_FIELDS = ("sort", "dir")
PAGING_FIELDS = ("cursor", "before", "offset")
# The Assign form's own fields: refused, the list is shown again with the reason beside the field.
ASSIGN_FIELDS = ("assignee_id", "due")
STATUSES = [status.value for status in RecordingStatus if status is not RecordingStatus.DELETED]


@bp.get("/")
@requires(Permission.RECORDING_LIST)
def index() -> tuple[str, int]:
    return _list_page(request.args)


def _list_page(
    args: Mapping[str, str],
    *,
    assigning: RefusedForm | None = None,
    saving: RefusedForm | None = None,
    ticked: Collection[str] = (),
) -> tuple[str, int]:
    """The list for `args` (its filters, sort and page); with `assigning`, its Assign refused beside the field, the
    calls `ticked` still ticked and the choices as sent (a bulk form re-shown keeps what the lead had done); with
    `saving`, its Save search refused, the name as typed."""
    form = call_filters.form_of(args)
    knows_agents = current_can(Permission.AGENT_READ)
    sort, descending = _sort(args, knows_agents)
    page: search.SearchPage | None = None
    error: Invalid | None = None
    actor = current_actor()
    try:
        filters = call_filters.filters(form)  # refused in the reader's language already
        try:
            page = search.search_calls(
                db(),
                actor=actor,
                query=form["q"],
                filters=filters,
                cursor=args.get("cursor") or None,
                before=args.get("before") or None,
                limit=PAGE_SIZE,
                snippets=current_can(Permission.TRANSCRIPT_READ),
                sort=sort,
                descending=descending,
                training_rules=training_rules(),
                offset=_offset(args),
            )
        except Invalid as exc:
            raise call_filters.in_reader_language(exc) from None
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
        paging_fields=PAGING_FIELDS,
        this_page=urlencode({**query, **{name: args[name] for name in PAGING_FIELDS if args.get(name)}}),
        sort=sort,
        descending=descending,
        sort_url=lambda column: _sort_url(query, column, sort=sort, descending=descending),
        # Another page of this search: its filters and sort with one paging parameter (none for the first page).
        page_url=lambda name, value: url_for("calls.index", **query, **({name: value} if value else {})),
        field_labels=call_filters.FIELD_LABELS,
        languages=call_filters.FILTER_LANGUAGES,
        language_name=call_filters.language_name,
        statuses=STATUSES,
        call_url=call_url,
        clock=clock,
        knows_agents=knows_agents,
        agent=(lambda ref: ref) if knows_agents else request_agent_names(),
        agent_pages=knows_agents and current_can(Permission.EVALUATION_READ),
        shows_evaluator=current_can(Permission.EVALUATION_READ),
        # Tags are staff's free text about calls (one may name a customer): read as comments are, not by trainers.
        tags=tags.tags_of(db(), ids) if current_can(Permission.EVALUATION_READ) else None,
        shows_call_ids=current_can(Permission.CUSTOMER_READ),
        queues=search.known_values(db(), actor=actor, field="queue"),
        agents=search.known_values(db(), actor=actor, field="agent_ref") if knows_agents else [],
        saved=saved_searches.saved_searches(db(), actor=actor) if actor.id else [],
        can_tag=current_can(Permission.ANNOTATION_WRITE),
        can_export=current_can(Permission.EVIDENCE_EXPORT),
        can_assign=current_can(Permission.EVALUATION_WRITE),
        evaluators=[user for user in accounts.list_users(db()) if assignments.can_evaluate(user)]
        if current_can(Permission.EVALUATION_WRITE)
        else [],
        assigning=assigning,
        saving=saving,
        ticked=set(ticked),
        # Who has each call open on their list: a bulk Assign of a call held by another is refused (Reassign).
        holders=holding.open_holders(db(), ids) if current_can(Permission.EVALUATION_WRITE) else None,
    )
    return page_html, 422 if error or assigning or saving else 200


@bp.post("/tag")
@requires(Permission.ANNOTATION_WRITE)
def tag() -> Response:
    """Put one tag on the chosen calls."""
    try:
        added = tags.tag_calls(db(), actor=current_actor(), recording_ids=_chosen(), tag=request.form.get("tag", ""))
    except Invalid as exc:
        return _back_with_error(exc)
    except NotFound as exc:
        return _back_without_deleted(exc)
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
    except NotFound as exc:
        return _back_without_deleted(exc)
    db().commit()
    flash(ngettext("Removed the tag from %(num)d call.", "Removed the tag from %(num)d calls.", removed))
    return _back()


@bp.post("/export.csv")
@requires(Permission.EVIDENCE_EXPORT)
def export() -> Response:
    """The chosen calls' metadata as CSV (no transcript text); each call exported is audited."""
    try:
        text = list_export.export_calls_csv(
            db(), actor=current_actor(), recording_ids=_chosen(), dialect=spreadsheet_dialect()
        )
    except Invalid as exc:
        return _back_with_error(exc)
    except NotFound as exc:
        return _back_without_deleted(exc)
    db().commit()
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="calls.csv"'
    return response


@bp.post("/assign")
@requires(Permission.EVALUATION_WRITE)
def assign() -> Response | tuple[str, int]:
    """Put the chosen calls on a supervisor's "to evaluate" list."""
    try:
        due = optional_date(request.form.get("due", "").strip(), field="due")
        made_for = request.form.get("assignee_id", "")
        made = assignments.assign_calls(
            db(),
            actor=current_actor(),
            recording_ids=_chosen(),
            assignee_id=made_for,
            today=organisation_today(),
            due=due,
        )
    except Invalid as exc:
        if exc.field not in ASSIGN_FIELDS:
            return _back_with_error(exc)
        # Beside the field it names, the list as it was: an Evaluator left unchosen, a due date mistyped.
        refused = refused_form("assign", exc)
        return _list_page(_back_args(), assigning=refused, ticked=request.form.getlist("recording_id"))
    except Conflict as exc:  # a call on another supervisor's list is handed on with Reassign
        back = _back_with_error(exc)
        held = int(exc.values.get("held", 0))
        if held > 1:  # the message names the first; the lead chose them all, and hands each on
            flash(
                ngettext(
                    "%(num)d of the chosen calls is on another supervisor's list, not yet evaluated.",
                    "%(num)d of the chosen calls are on other supervisors' lists, not yet evaluated.",
                    held,
                ),
                "error",
            )
        return back
    except NotFound as exc:
        return _back_without_deleted(exc)
    said = assigned_message(made, assignments.evaluator(db(), made_for, field="assignee_id"))
    db().commit()
    flash(said)
    return _back()


def assigned_message(made: assignments.Assigned, assignee: User) -> str:
    """What Assign did, counted: new on the list, there already, or evaluated by that supervisor already (nothing
    new on their list); "Assigned 3 calls" of three chosen, two of them already done, told the lead otherwise."""
    name = assignee.display_name or assignee.username
    said = [ngettext("Assigned %(num)d call.", "Assigned %(num)d calls.", made.added)]
    if made.listed_before:
        said.append(
            ngettext(
                "%(num)d was on %(name)s's list already.",
                "%(num)d were on %(name)s's list already.",
                made.listed_before,
                name=name,
            )
        )
    if made.done_before:
        said.append(
            ngettext(
                "%(num)d has been evaluated by %(name)s already: nothing new on their list.",
                "%(num)d have been evaluated by %(name)s already: nothing new on their list.",
                made.done_before,
                name=name,
            )
        )
    return " ".join(said)


@bp.post("/saved-searches")
@requires(Permission.RECORDING_LIST)
def save_search() -> Response | tuple[str, int]:
    """Keep the list's current filter (and sort) under a name, for its owner only; not one the list refuses."""
    back = request.form.get("back", "")
    try:
        call_filters.checked_search(call_filters.form_of(dict(parse_qsl(back))))
    except Invalid as exc:
        label = call_filters.FIELD_LABELS.get(exc.field or "", exc.field)
        flash(gettext("Search not saved. %(field)s: %(message)s", field=label, message=exc.message), "error")
        return _back()
    try:
        saved_searches.save_search(db(), actor=current_actor(), name=request.form.get("name", ""), query=back)
    except Invalid as exc:  # the name (or the search) refused: beside the field, the name as typed
        return _list_page(_back_args(), saving=refused_form("save_search", exc))
    except Conflict as exc:  # the most kept: back to the list, to delete one
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


def _back_pairs() -> list[tuple[str, str]]:
    """The list's filters, sort and page as the form's `back` carries them."""
    kept = call_filters.FORM_FIELDS + SORT_FIELDS + PAGING_FIELDS
    return [(key, value) for key, value in parse_qsl(request.form.get("back", "")) if key in kept]


def _back_args() -> MultiDict[str, str]:
    return MultiDict(_back_pairs())


def _back() -> Response:
    """Back to the call list as it was (its filters, sort and page come along in the form's `back`)."""
    pairs = _back_pairs()
    target = url_for("calls.index")
    return redirect(f"{target}?{urlencode(pairs)}" if pairs else target)


def _back_with_error(exc: Invalid | Conflict) -> Response:
    db().rollback()
    flash_error(exc)
    return _back()


def _back_without_deleted(exc: NotFound) -> Response:
    """Back to the list as it now is when a chosen call has been deleted since the list was shown (nothing done,
    as the action is all or none); a call hidden from the actor is refused, and audited, as every page does."""
    if exc.refusal is not None:
        raise exc
    db().rollback()
    flash(gettext("A selected call has been deleted since the list was shown: nothing was done."), "error")
    return _back()


def _sort(args: Mapping[str, str], knows_agents: bool) -> tuple[str, bool]:
    sort = args.get("sort", "started")
    if sort not in search.SORTS or (sort == "agent" and not knows_agents):
        sort = "started"
    return sort, args.get("dir", "desc") != "asc"


def _offset(args: Mapping[str, str]) -> int:
    """The page of an order other than newest first; one edited (not a whole number) is refused as a cursor is."""
    raw = args.get("offset") or ""
    offset = whole_number(raw)
    if offset is None and raw:
        raise Invalid("offset", "not a page of this list", code="invalid_cursor")
    return offset or 0


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
