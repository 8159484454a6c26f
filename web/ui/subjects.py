"""Data-subject requests for compliance: look a customer up, register requests, answer them before the deadline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from werkzeug.wrappers import Response

from recordings_service.customers import customer_reference, refuse_mistyped
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid
from recordings_service.models import Customer, SubjectRequest
from recordings_service.models.privacy import SubjectRequestKind
from recordings_service.permissions import Permission
from recordings_service.privacy import fulfilment, request_lists, restriction, restriction_ledger, subjects
from recordings_service.privacy.rectification import SegmentFix, view_corrections
from recordings_service.recordings import MAX_PAGE, RecordingFilters, browse_recordings, decode_cursor
from web.access import current_actor, requires
from web.api.validation import next_cursor
from web.database import db, runtime
from web.errors import abandon_refused
from web.i18n import DIRECTION_LABELS, local_date, organisation_today, organisation_zone
from web.ui.error_messages import error_message, flash_error
from web.ui.list_pages import page_url
from web.ui.numbers import whole_number
from web.ui.refused_form import RefusedForm, refusal_status, refused_form
from web.ui.subject_rows import correction_row, kept_row

bp = Blueprint("subjects", __name__, url_prefix="/subjects")
PAGE_SIZE = MAX_PAGE
KINDS = [kind.value for kind in SubjectRequestKind]
# The rectification form's answers for "agreement made"; "unknown" clears it.
AGREEMENT_CHOICES = {"yes": True, "no": False, "unknown": None}
# ... and for "recording notice given", which is known for every call (the API takes true or false only).
NOTICE_CHOICES = {"yes": True, "no": False}
# A request's stored kind as people read it (lists, the kind select, the dashboard), and a request's heading.
KIND_HEADINGS: dict[str, LazyString] = {
    SubjectRequestKind.ACCESS: _l("Request for access"),
    SubjectRequestKind.OBJECTION: _l("Request for objection"),
    SubjectRequestKind.RECTIFICATION: _l("Request for rectification"),
    SubjectRequestKind.RESTRICTION: _l("Request for restriction"),
    SubjectRequestKind.ERASURE: _l("Request for erasure"),
}


@bp.get("/")
@requires(Permission.SUBJECT_REQUESTS)
def index() -> tuple[str, int]:
    """Open requests by deadline; with `customer_ref`, that customer's requests and a form for a new one. Each list
    a page at a time (`cursor`), with how many it holds; a page link edited or out of date is refused (422)."""
    return _index_page(request.args.get("customer_ref", "").strip())


@dataclass(frozen=True)
class RequestPage:
    """One page of a list of requests: its rows, how many the whole list holds, the next page's cursor; or, for a
    page link refused, why."""

    rows: list[SubjectRequest] = field(default_factory=list)
    total: int = 0
    next_cursor: str | None = None
    refused: str | None = None


def _request_page(
    read: Callable[[str | None, int], list[SubjectRequest]],
    total: int,
    cursor_of: Callable[[SubjectRequest], str],
) -> RequestPage:
    """The page of a list the request's `cursor` names (the first without one)."""
    try:
        rows = read(request.args.get("cursor") or None, PAGE_SIZE + 1)
    except Invalid as exc:
        return RequestPage(total=total, refused=error_message(exc))
    return RequestPage(rows[:PAGE_SIZE], total, next_cursor(rows, PAGE_SIZE, cursor_of))


def _index_page(ref: str, sent: RefusedForm | None = None) -> tuple[str, int]:
    """The requests page for `ref` (or the open requests), with the register form as typed when `sent` was refused;
    422 for a page link refused."""
    now = utcnow()
    customer = db().scalars(select(Customer).where(Customer.customer_ref == ref)).first() if ref else None
    if ref and customer is None and sent is None:
        # Not "no recordings are held": a known customer's reference in another letter case is far likelier.
        try:
            refuse_mistyped(db(), customer_reference(ref))  # too long a reference names no one either
        except Invalid as exc:
            sent = RefusedForm(form="lookup", values={"customer_ref": ref}, message=error_message(exc), field=exc.field)
    listed = None
    if customer:
        listed = _request_page(
            lambda cursor, limit: request_lists.list_requests(db(), customer_ref=ref, cursor=cursor, limit=limit),
            request_lists.count_requests(db(), customer_ref=ref),
            request_lists.request_cursor,
        )
    elif not ref:
        listed = _request_page(
            lambda cursor, limit: request_lists.open_requests_by_deadline(db(), cursor=cursor, limit=limit),
            request_lists.count_requests(db(), open_only=True),
            request_lists.deadline_cursor,
        )
    listed = listed or RequestPage()
    page = render_template(
        "subjects/index.html",
        ref=ref,
        customer=customer,
        listed=listed,
        page_url=page_url("subjects.index"),
        kinds=KINDS,
        days_left=partial(subjects.days_left, now=now, zone=organisation_zone()),
        today=organisation_today().isoformat(),
        sent=sent,
    )
    return page, 422 if listed.refused or (sent and sent.form == "lookup") else 200


@bp.post("/")
@requires(Permission.SUBJECT_REQUESTS)
def create() -> Response | tuple[str, int]:
    """Register a request; a refusal comes back to the customer's page with the form as typed and why."""
    ref = request.form.get("customer_ref", "").strip()
    try:
        made = subjects.create_request(
            db(),
            actor=current_actor(),
            customer_ref=ref,
            kind=request.form.get("kind", ""),
            received_at=_received_at(request.form.get("received_on", "")),
        )
    except DomainError as exc:
        sent = refused_form("register", exc)
        if sent.field == "received_at":  # the service's name for the date the form calls received_on
            sent = replace(sent, field="received_on")
        return _index_page(ref, sent)[0], refusal_status(exc)
    db().commit()
    flash(gettext("Request registered; it is due on %(date)s.", date=local_date(made.due_at).striptags()))
    return redirect(url_for("subjects.detail", request_id=made.id))


@bp.get("/<request_id>")
@requires(Permission.SUBJECT_REQUESTS)
def detail(request_id: str) -> str:
    return _detail_page(request_id, cursor=request.args.get("cursor") or None)


def _detail_page(request_id: str, sent: RefusedForm | None = None, *, cursor: str | None = None) -> str:
    """A request, a page of its customer's calls (newest first, from `cursor`) and the form answering it (as typed,
    with why, when `sent` was refused). The rectification form offers the calls of that page: every call of a
    customer with more than a page of them is reached through the pages, as on the calls list."""
    now = utcnow()
    item = subjects.get_request(db(), request_id)
    # Audited as any list of calls is (`recording.listed`): each row is a call of this customer.
    page = browse_recordings(
        db(),
        actor=current_actor(),
        filters=RecordingFilters(customer_ref=item.customer_ref),
        cursor=cursor,
        limit=MAX_PAGE,
    )
    corrections = []
    if item.kind == SubjectRequestKind.RECTIFICATION:
        corrections = view_corrections(db(), actor=current_actor(), request=item)
    db().commit()
    package_valid = (
        item.package_state == "ready" and item.package_expires_at is not None and item.package_expires_at > now
    )
    return render_template(
        "subjects/detail.html",
        item=item,
        calls=page.items,
        cursor=cursor,
        older=page.next_cursor,
        corrections=[correction_row(correction) for correction in corrections],
        kept_calls=[kept_row(kept) for kept in (item.outcome or {}).get("kept", [])],
        package_valid=package_valid,
        days=subjects.days_left(item, now=now, zone=organisation_zone()),
        now=now,
        heading=KIND_HEADINGS.get(item.kind, item.kind),
        sent=sent,
    )


@bp.post("/<request_id>/fulfil")
@requires(Permission.SUBJECT_REQUESTS)
def fulfil(request_id: str) -> Response | tuple[str, int]:
    """Answer the request; a refusal comes back to it with every field as typed (nothing stored) and why."""
    item = subjects.get_request(db(), request_id)
    kind = item.kind
    rt = runtime()
    try:
        calls_page = sent_from_page()
        answer = _answer(kind)
        done = fulfilment.fulfil_request(
            db(),
            rt.store,
            actor=current_actor(),
            request_id=request_id,
            answer=answer,
            zone=rt.settings.zone,
            customer_number_pattern=rt.settings.customer_number_rule,
        )
    except DomainError as exc:
        sent = refused_form("answer", exc)
        return refused_page(request_id, replace(sent, field=_answer_field(sent.field))), refusal_status(exc)
    db().commit()
    fulfilment.after_commit(db(), rt.store, done)
    db().commit()
    flash(_done_message(kind))
    return redirect(url_for("subjects.detail", request_id=request_id, cursor=calls_page))


@bp.post("/<request_id>/extend")
@requires(Permission.SUBJECT_REQUESTS)
def extend(request_id: str) -> Response | tuple[str, int]:
    """Extend the deadline once; a refusal comes back to the request with the reason as typed (it is told to the
    customer, and may be long) and why."""
    subjects.get_request(db(), request_id)  # an unknown request is a 404, not a message
    try:
        calls_page = sent_from_page()
        subjects.extend_request(
            db(),
            actor=current_actor(),
            request_id=request_id,
            months=whole_number(request.form.get("months")) or 0,
            reason=request.form.get("reason", ""),
            zone=organisation_zone(),
        )
    except DomainError as exc:
        return refused_page(request_id, refused_form("extend", exc)), refusal_status(exc)
    db().commit()
    flash(gettext("Deadline extended."))
    return redirect(url_for("subjects.detail", request_id=request_id, cursor=calls_page))


@bp.post("/<request_id>/lift")
@requires(Permission.SUBJECT_REQUESTS)
def lift(request_id: str) -> Response | tuple[str, int]:
    """End a restriction and come back to the request (on the page of calls it was sent from) with the outcome (the
    form has nothing typed to keep)."""
    subjects.get_request(db(), request_id)  # an unknown request is a 404, not a message
    try:
        calls_page = sent_from_page()
    except Invalid as exc:
        return refused_page(request_id, refused_form("answer", exc)), refusal_status(exc)
    try:
        lifted = restriction.lift_restriction(db(), actor=current_actor(), request_id=request_id)
    except DomainError as exc:
        abandon_refused(exc)
        flash_error(exc)
    else:
        db().commit()
        restriction_ledger.record_restriction(runtime().store, lifted)
        flash(gettext("Restriction lifted."))
    return redirect(url_for("subjects.detail", request_id=request_id, cursor=calls_page))


def sent_from_page() -> str | None:
    """The page of calls a form of the request's page was sent from (its hidden `cursor`), for the answer to come
    back to. One edited is refused (`Invalid` on `cursor`) before the form does anything, as the page's own link
    would be."""
    cursor = request.form.get("cursor") or None
    if cursor is not None:
        decode_cursor(cursor)
    return cursor


def refused_page(request_id: str, sent: RefusedForm) -> str:
    """The request's page again with the refused form as typed and why, on the page of calls it was sent from; on
    the first page when that page's cursor was what was refused (edited or out of date), not the generic error page,
    which would lose what was typed (an extension's reason, a correction)."""
    if sent.field != "cursor":
        return _detail_page(request_id, sent, cursor=request.form.get("cursor") or None)
    message = gettext(
        "The page of calls this form was sent from is not valid (mistyped or out of date): nothing was saved, and "
        "the first page of calls is shown. Check what you typed and send the form again."
    )
    return _detail_page(request_id, replace(sent, message=message), cursor=None)


def _answer(kind: str) -> fulfilment.Answer:
    """The fulfil form as the answer its kind takes (the form only shows that kind's fields)."""
    form = request.form
    if kind == SubjectRequestKind.OBJECTION:
        # "Neither" is a tick of its own: inferred from no tick, a forgotten tick closed the customer's objection.
        research, marketing, neither = ("research" in form, "marketing" in form, "neither" in form)
        if neither == (research or marketing):
            if neither:
                raise Invalid(
                    "neither", gettext("tick what the customer objects to or that they object to neither, not both")
                )
            raise Invalid("objects_to", gettext("tick what the customer objects to, or that they object to neither"))
        return fulfilment.Answer(research=research, marketing=marketing)
    if kind != SubjectRequestKind.RECTIFICATION:
        return fulfilment.Answer()
    metadata: dict[str, Any] = {}
    for name in ("language", "queue"):
        if form.get(name, "").strip():
            metadata[name] = form[name].strip()
    direction = form.get("direction", "")
    if direction:
        if direction not in DIRECTION_LABELS:
            raise Invalid("direction", gettext("choose inbound or outbound"))
        metadata["direction"] = direction
    for name, choices, message in (
        ("notice_given", NOTICE_CHOICES, gettext("choose yes or no")),
        ("agreement_made", AGREEMENT_CHOICES, gettext("choose yes, no or unknown")),
    ):
        chosen = form.get(name, "")
        if chosen:
            if chosen not in choices:
                raise Invalid(name, message)
            metadata[name] = choices[chosen]
    fixes = None
    if form.get("text", "").strip() and not form.get("segment", "").strip():
        # Saved without it, the other corrections went through and the corrected text was dropped without a word.
        raise Invalid("segment", gettext("give the number of the segment the corrected text is for"))
    if form.get("segment", "").strip():
        segment = whole_number(form["segment"])
        if segment is None:
            raise Invalid("segment", gettext("a segment number"))
        fixes = [SegmentFix(segment, form.get("text", ""))]
    return fulfilment.Answer(recording_id=form.get("recording_id") or None, metadata=metadata or None, transcript=fixes)


def _answer_field(field: str | None) -> str | None:
    """The answer form's field for the one a refusal names: `metadata.queue` is `queue`, `transcript.0.text` `text`."""
    if field and field.startswith(("metadata.", "transcript.")):
        return field.rsplit(".", 1)[1]
    return field


def _done_message(kind: str) -> str:
    messages = {
        SubjectRequestKind.ACCESS: gettext("The package is being built; it appears here when ready."),
        SubjectRequestKind.OBJECTION: gettext("Objection recorded; it applies at once."),
        SubjectRequestKind.RECTIFICATION: gettext("Correction saved; the previous value is kept."),
        SubjectRequestKind.RESTRICTION: gettext("The customer's calls are restricted."),
        SubjectRequestKind.ERASURE: gettext("Erasure done; see what was deleted and what was kept below."),
    }
    return messages[SubjectRequestKind(kind)]


def _received_at(raw: str) -> datetime:
    """The day the request reached us, from the start of that day where the organisation is (a date has no time)."""
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d").replace(tzinfo=organisation_zone())
    except ValueError:
        raise Invalid("received_on", gettext("use a date (2025-01-31)")) from None
