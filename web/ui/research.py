"""Research batches for compliance: select calls for a study, approve or reject (four eyes), follow the build,
the downloads and the custody confirmations. Institutes have their own page (web/ui/institutes.py)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal, gettext
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from recordings_service.calendar_days import DEFAULT_ZONE
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid
from recordings_service.models import ResearchBatch, User
from recordings_service.models.research import BatchState
from recordings_service.permissions import Permission
from recordings_service.research import batches, build_queue, confirmations, custody, early_end, follow_ups
from recordings_service.research.batches import AUDIO_CHOICES, METADATA_FIELDS
from recordings_service.research.institutes import list_institutes, transfer_gap
from recordings_service.research.lifecycle import was_downloaded
from recordings_service.research.selection import MAX_SAMPLE
from web.access import current_actor, requires
from web.database import db, runtime
from web.errors import abandon_refused
from web.same_site import refuse_cross_site
from web.ui.batch_form import DIRECTIONS, TEXT_FIELDS, batch_request, copied_form, form_defaults
from web.ui.batch_pages import BatchPage, batch_page
from web.ui.error_messages import error_message, flash_error
from web.ui.list_pages import page_url
from web.ui.refused_form import RefusedForm, refused_form

bp = Blueprint("research", __name__, url_prefix="/research")
PAGE_SIZE = 200
NOT_OVERDUE = [state for state in BatchState if state != BatchState.OVERDUE]
# Binary units, largest first: a package of 12345678 bytes reads "11.8 MiB". IEC symbols are the same in every
# language (Finnish too), so only the number is the reader's ("11,8 MiB").
BYTE_UNITS = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


# The batch lists (compliance's and the partner's) count a batch's follow-ups still to act on by the one rule.
bp.add_app_template_filter(follow_ups.outstanding_count, "outstanding_follow_ups")


@bp.app_template_filter("byte_size")
def byte_size(size: int | None) -> Markup:
    """A package's or certificate's size as people read it, in the reader's language ("11.8 MiB", Finnish
    "11,8 MiB"), the exact count of bytes on hover (to check a download against); "—" for none."""
    if size is None:
        return Markup("—")
    exact = gettext("%(size)s bytes", size=format_decimal(size))
    shown = exact
    fitting = [index for index, (unit, _symbol) in enumerate(BYTE_UNITS) if size >= unit]
    if fitting:
        index = fitting[0]
        if index > 0 and round(size / BYTE_UNITS[index][0], 1) >= 1024:
            index -= 1  # 1023.96 KiB would read "1,024.0 KiB": it is 1.0 MiB
        unit, symbol = BYTE_UNITS[index]
        shown = f"{format_decimal(round(size / unit, 1), format='#,##0.0')} {symbol}"
    return Markup('<span title="{exact}">{shown}</span>').format(exact=exact, shown=shown)


@bp.get("/")
@requires(Permission.RESEARCH_MANAGE)
def index() -> tuple[str, int]:
    """Every batch, the overdue ones (custody not confirmed after the study ended) first: each list a page at a
    time, the page its own cursor names (`overdue_cursor`, `cursor`).

    The overdue list heads the first page of the others only: on their later pages it would repeat above each,
    so there its count stands in for it, with the way back to it (never hidden, never shown twice)."""
    overdue_count = batches.count_batches(db(), states=[BatchState.OVERDUE])
    overdue: BatchPage | None = None  # on a later page of the others
    if not request.args.get("cursor"):
        overdue = batch_page(
            lambda cursor, limit: batches.list_batches(db(), states=[BatchState.OVERDUE], cursor=cursor, limit=limit),
            param="overdue_cursor",
            size=PAGE_SIZE,
        )
    rest = batch_page(
        lambda cursor, limit: batches.list_batches(db(), states=NOT_OVERDUE, cursor=cursor, limit=limit),
        param="cursor",
        size=PAGE_SIZE,
    )
    page = render_template(
        "research/batches.html",
        overdue=overdue,
        overdue_count=overdue_count,
        rest=rest,
        page_url=page_url("research.index"),
        now=utcnow(),
    )
    return page, 422 if (overdue is not None and overdue.refused) or rest.refused else 200


@bp.route("/batches/new", methods=["GET", "POST"])
@requires(Permission.RESEARCH_MANAGE)
def new_batch() -> Response | str | tuple[str, int]:
    """GET: the selection form. POST: select the calls and keep the batch as a draft for a second approver."""
    if request.method == "GET":
        copied = request.args.get("copy_of")
        return _batch_form(copied_form(copied) if copied else form_defaults(request.args.get("institute_id", "")))
    form = request.form
    try:
        made = batches.create_batch(
            db(), runtime().envelope, actor=current_actor(), request=batch_request(form), reuse_recent=True
        ).made
    except DomainError as exc:
        db().rollback()
        values = {**{key: form.get(key, "") for key in TEXT_FIELDS}, "directions": form.getlist("directions")}
        values["metadata_fields"] = form.getlist("metadata_fields")
        return _batch_form(values, error=error_message(exc), field=exc.field), 422
    db().commit()
    flash(
        gettext(
            "Batch created as a draft: %(selected)s calls selected, %(excluded)s excluded. "
            "A second compliance user must approve it.",
            selected=made.selected,
            excluded=sum(made.excluded.values()),
        )
    )
    return redirect(url_for("research.batch", batch_id=made.id))


@bp.get("/batches/<batch_id>")
@requires(Permission.RESEARCH_MANAGE)
def batch(batch_id: str) -> str:
    return _batch_page(batches.get_batch(db(), batch_id))


def _batch_page(found: ResearchBatch, *, refused: RefusedForm | None = None) -> str:
    """The batch's page; with `refused`, one of its forms sent back as typed, with the reason beside it."""
    made = confirmations.confirmations_of(db(), found.id)
    history = custody.download_history(db(), found.id)
    # `downloads` counts whole packages that went out (`portal.completes_package`); bytes served short of one
    # still mean the institute may hold part of a copy: taken in ranges only, or a download broken off.
    in_part = found.downloads == 0 and was_downloaded(db(), found.id)
    ranges_only = in_part and all(served.start > 0 for served in history)
    people = {found.created_by, found.approved_by, found.rejected_by, found.closed_by, found.access_ended_by}
    people |= {item.decided_by for item in made} | {item.submitted_by for item in made}
    return render_template(
        "research/batch.html",
        batch=found,
        gap=transfer_gap(found.institute),
        confirmations=made,
        names=_usernames(people - {None}),
        now=utcnow(),
        # Stored as ISO text in JSON columns: read back, to be shown as every other date and time of the page.
        days={key: date.fromisoformat(str(found.criteria[key])) for key in ("from", "to")},
        # Whose days they are: a batch selected before criteria named a zone had UTC days.
        days_zone=found.criteria.get("timezone") or DEFAULT_ZONE,
        flags=follow_ups.follow_ups(found),
        objections=follow_ups.objections_not_followed_up(db(), found),
        download_history=history,
        ranges_only=ranges_only,
        never_whole=in_part and not ranges_only,
        refused=refused,
    )


@bp.post("/batches/<batch_id>/approve")
@requires(Permission.RESEARCH_MANAGE)
def approve(batch_id: str) -> Response | tuple[str, int]:
    return _act(
        batch_id,
        gettext("Batch approved; the package is being built."),
        lambda: batches.approve_batch(db(), actor=current_actor(), batch_id=batch_id),
    )


@bp.post("/batches/<batch_id>/reject")
@requires(Permission.RESEARCH_MANAGE)
def reject(batch_id: str) -> Response | tuple[str, int]:
    reason = request.form.get("reason", "")
    if not reason.strip():  # nothing typed to keep: said on the page as it is
        batches.get_batch(db(), batch_id)
        flash(gettext("Give the reason for the rejection."), "error")
        return redirect(url_for("research.batch", batch_id=batch_id))
    return _act(
        batch_id,
        gettext("Batch rejected; nothing will be built."),
        lambda: batches.reject_batch(db(), actor=current_actor(), batch_id=batch_id, reason=reason),
        form="reject",
    )


@bp.post("/batches/<batch_id>/end-access")
@requires(Permission.RESEARCH_MANAGE)
def end_access(batch_id: str) -> Response | tuple[str, int]:
    """End the access window now (an agreement ended, a suspected breach); the reason as typed is kept if refused."""
    reason = request.form.get("reason", "")
    return _act(
        batch_id,
        gettext("Access ended: the institute can no longer download the package."),
        lambda: early_end.end_access(db(), actor=current_actor(), batch_id=batch_id, reason=reason, now=utcnow()),
        form="end_access",
    )


@bp.post("/batches/<batch_id>/retry")
@requires(Permission.RESEARCH_MANAGE)
def retry(batch_id: str) -> Response | tuple[str, int]:
    """Queue a build that failed on every attempt again (after fixing the cause, e.g. the store)."""
    return _act(
        batch_id,
        gettext("The build is queued again."),
        lambda: build_queue.retry_build(db(), actor=current_actor(), batch_id=batch_id),
    )


@bp.post("/batches/<batch_id>/confirmation/accept")
@requires(Permission.RESEARCH_MANAGE)
def accept_confirmation(batch_id: str) -> Response | tuple[str, int]:
    return _act(
        batch_id,
        gettext("Confirmation accepted; the batch is closed and its pseudonym key destroyed."),
        lambda: confirmations.accept_confirmation(db(), actor=current_actor(), batch_id=batch_id),
    )


@bp.post("/batches/<batch_id>/confirmation/reject")
@requires(Permission.RESEARCH_MANAGE)
def reject_confirmation(batch_id: str) -> Response | tuple[str, int]:
    reason = request.form.get("reason", "")
    return _act(
        batch_id,
        gettext("Confirmation sent back to the institute with the reason."),
        lambda: confirmations.reject_confirmation(db(), actor=current_actor(), batch_id=batch_id, reason=reason),
        form="reject_confirmation",
    )


@bp.get("/confirmations/<confirmation_id>/certificate")
@requires(Permission.RESEARCH_MANAGE)
def certificate(confirmation_id: str) -> Response:
    """The partner's certificate of return or destruction (a PDF), its reading audited; not for a request another
    site's page made."""
    refuse_cross_site(object_type="custody_confirmation", object_id=confirmation_id)
    rt = runtime()
    body = confirmations.open_certificate(
        db(), rt.store, rt.envelope, actor=current_actor(), confirmation_id=confirmation_id
    )
    db().commit()
    return send_file(
        io.BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=f"{confirmation_id}.pdf"
    )


def _act(
    batch_id: str, done: str, action: Callable[[], object], *, form: str | None = None
) -> Response | tuple[str, int]:
    """Run one change of a batch, commit, and come back to it with the outcome (a refusal is audited).

    With `form`, an input of that form refused (`Invalid`) sends the page back with the form as typed and the field
    marked; any other refusal is about the batch's state, which the page read afresh shows."""
    found = batches.get_batch(db(), batch_id)  # an unknown batch is a 404, not a message
    try:
        action()
    except DomainError as exc:
        if form is not None and isinstance(exc, Invalid):
            return _batch_page(found, refused=refused_form(form, exc)), 422  # its work undone, its refusal kept
        abandon_refused(exc)
        flash_error(exc)
    else:
        db().commit()
        flash(done)
    return redirect(url_for("research.batch", batch_id=batch_id))


def _usernames(user_ids: set[str | None]) -> dict[str | None, str]:
    if not user_ids:
        return {}
    rows = db().execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {row.id: row.username for row in rows}


def _batch_form(form: Mapping[str, object], *, error: str | None = None, field: str | None = None) -> str:
    return render_template(
        "research/batch_new.html",
        form=form,
        error=error,
        field=field,
        institutes=list_institutes(db()),
        directions=DIRECTIONS,
        audio_choices=AUDIO_CHOICES,
        metadata_fields=METADATA_FIELDS,
        max_sample=MAX_SAMPLE,
    )
