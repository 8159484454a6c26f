"""The research partners' portal: their institute's batches, the download inside the access window, and the
confirmation that every copy was returned or destroyed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import Response as FlaskResponse
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import ValidationError

from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid, TooLarge
from recordings_service.models import ResearchBatch, User
from recordings_service.models.research import CustodyMethod
from recordings_service.permissions import Permission
from recordings_service.research import batches, confirmations, follow_ups, portal
from recordings_service.research.confirmations import MAX_CERTIFICATE_BYTES
from web import body_limit
from web.access import current_actor, current_can, current_principal, requires
from web.database import db, runtime
from web.errors import abandon_refused, error_response, keep_refusal
from web.form_text import file_part, file_parts
from web.i18n import organisation_today
from web.links import wants_json
from web.nul_bytes import form_checked_after_lookup, refuse_form_text
from web.ui.batch_pages import BatchPage, batch_page
from web.ui.error_messages import error_message, listed_message
from web.ui.list_pages import page_url
from web.ui.refused_form import refusal_status

bp = Blueprint("partner", __name__, url_prefix="/partner")
# Room for the form's other fields and the multipart framing on top of the certificate.
FORM_BYTES = 64 * 1024
PAGE_SIZE = batches.MAX_PAGE
FIELDS = ("method", "confirmed_on", "signer", "title", "statement")
METHODS = [method.value for method in CustodyMethod]
# The refusal of a confirmation of a batch never downloaded, whose page offers no form: sent from a page open since
# before the form was withdrawn, or crafted. The page shown with it says why nothing needs confirming.
NOT_SENT = _l("Your confirmation was not sent: nothing of this batch has been downloaded.")


@bp.url_value_preprocessor
def limit_upload(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Bound the confirmation's body before anything reads it: this runs ahead of the app's own
    before-request steps, and the CSRF check among them parses the whole form."""
    if endpoint == "partner.confirm":
        request.max_content_length = MAX_CERTIFICATE_BYTES + FORM_BYTES


@bp.errorhandler(TooLarge)
@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: Exception) -> FlaskResponse | tuple[str, int]:
    """A body over the limit, refused before anything read it, possibly before sign-in was checked.

    A confirmation whose certificate is too large comes back as the partner typed it, the limit said beside the
    certificate, where its fields can be read safely: the sender signed in, with the batch their own and the form's
    CSRF token, and the fields ahead of the certificate within `FORM_BYTES`. Otherwise the page says only the limit,
    with the way back to the batch: a bare 413 lost the statement typed."""
    if isinstance(exc, DomainError) and exc.refusal is not None:
        keep_refusal(exc.refusal)
    batch_id = str((request.view_args or {}).get("batch_id") or "")
    if request.endpoint != "partner.confirm" or not batch_id:
        # Another page's body (an acknowledgement's): refused as the app refuses any, naming no certificate.
        if isinstance(exc, TooLarge):
            return error_response(413, exc.code, exc.message, exc.field, page_message=listed_message(exc))
        return error_response(413, "too_large", "the request body is too large")
    limit = gettext("The certificate may be at most 10 MB.")
    shown = _typed_again(batch_id, limit) if isinstance(exc, TooLarge) else None
    if shown is not None:
        return shown, 413
    if wants_json():
        return error_response(413, "too_large", limit, "certificate")
    back = url_for("partner.batch", batch_id=batch_id)
    return render_template("error.html", status=413, message=limit, explained=limit, back=back), 413


@bp.get("/")
@requires(Permission.PARTNER_PORTAL)
def index() -> tuple[str, int]:
    """The batches released to the partner's institute (drafts and rejected ones never show), newest first, a page
    at a time (`cursor`)."""
    listed = BatchPage()
    if _has_institute():
        listed = batch_page(
            lambda cursor, limit: batches.partner_batches(db(), actor=current_actor(), cursor=cursor, limit=limit),
            param="cursor",
            size=PAGE_SIZE,
        )
    page = render_template(
        "partner/index.html", user=_account(), listed=listed, page_url=page_url("partner.index"), now=utcnow()
    )
    return page, 422 if listed.refused else 200


@bp.get("/batches/<batch_id>")
@requires(Permission.PARTNER_PORTAL)
def batch(batch_id: str) -> str:
    return _batch_page(_own_batch(batch_id), form={})


@bp.post("/batches/<batch_id>/confirmation")
@requires(Permission.PARTNER_PORTAL)
@file_parts("certificate")
@form_checked_after_lookup
def confirm(batch_id: str) -> Response | tuple[str, int]:
    """The return or destruction confirmation, with an optional PDF certificate (multipart, at most 10 MB)."""
    found = _own_batch(batch_id)
    refuse_form_text()
    form = {key: request.form.get(key, "") for key in FIELDS}
    rt = runtime()
    try:
        confirmations.submit_confirmation(
            db(),
            rt.store,
            rt.envelope,
            actor=current_actor(),
            batch_id=found.id,
            method=form["method"],
            confirmed_on=_date(form["confirmed_on"]),
            signer=form["signer"],
            title=form["title"],
            statement=form["statement"],
            certificate=_certificate(),
        )
    except DomainError as exc:
        abandon_refused(exc)
        error = str(NOT_SENT) if isinstance(exc, confirmations.NotDownloaded) else error_message(exc)
        # No browser fills a file input in again: said beside it, or the next send goes without the certificate.
        chosen = request.files.get("certificate")
        again = chosen is not None and bool(chosen.filename) and exc.field != "certificate"
        page = _batch_page(_own_batch(batch_id), form=form, error=error, field=exc.field, certificate_again=again)
        return page, refusal_status(exc)  # 409 where the batch's state refuses it, as the API answers
    db().commit()
    flash(gettext("Thank you: your confirmation was sent to compliance for review."))
    return redirect(url_for("partner.batch", batch_id=batch_id))


@bp.post("/batches/<batch_id>/follow-up/<int:number>/acknowledge")
@requires(Permission.PARTNER_PORTAL)
def acknowledge_follow_up(batch_id: str, number: int) -> Response:
    """The partner acknowledges a customer's erasure request or objection to research passed on to the institute."""
    found = _own_batch(batch_id)
    follow_ups.acknowledge_follow_up(db(), actor=current_actor(), batch_id=found.id, number=number)
    db().commit()
    flash(gettext("Acknowledged: compliance sees that your institute has received this request."))
    return redirect(url_for("partner.batch", batch_id=batch_id))


def _batch_page(
    found: ResearchBatch,
    *,
    form: dict[str, str],
    error: str | None = None,
    field: str | None = None,
    certificate_again: bool = False,
) -> str:
    now = utcnow()
    history = confirmations.confirmations_of(db(), found.id)
    pending = confirmations.pending_in(history)
    blocker = confirmations.confirmation_blocker(db(), found, history=history)
    return render_template(
        "partner/batch.html",
        batch=found,
        now=now,
        in_window=found.access_start <= now < found.access_end,
        download_blocker=portal.download_blocker(db(), found, now=now, history=history),
        confirmed=pending is not None,
        confirmable=blocker is None,
        not_downloaded=blocker is confirmations.ConfirmationBlocker.NOT_DOWNLOADED,
        latest=history[0] if history else None,
        follow_ups=follow_ups.follow_ups(found),
        methods=METHODS,
        max_mb=MAX_CERTIFICATE_BYTES // (1024 * 1024),
        today=organisation_today().isoformat(),
        form=form,
        error=error,
        field=field,
        certificate_again=certificate_again,
    )


def _typed_again(batch_id: str, limit: str) -> str | None:
    """The batch page with the confirmation form as sent, when its fields can be read safely (see `too_large`)."""
    if not current_can(Permission.PARTNER_PORTAL) or not _has_institute():
        return None
    form = body_limit.fields_ahead_of_file(FORM_BYTES)
    if form is None:
        return None
    try:
        validate_csrf(form.get("csrf_token"))
    except ValidationError:
        return None
    try:
        found = batches.get_partner_batch(db(), actor=current_actor(), batch_id=batch_id)
    except DomainError as exc:
        abandon_refused(exc)  # another institute's batch: its refusal stays on the trail, as for a smaller body
        return None
    typed = {key: form.get(key, "") for key in FIELDS}
    return _batch_page(found, form=typed, error=limit, field="certificate")


def _account() -> User:
    """The acting account: signed in, or the holder of a `partner` token (who has no browser session)."""
    principal = current_principal()
    assert principal is not None  # `requires` let the request in
    return principal.user


def _has_institute() -> bool:
    return _account().institute_id is not None


def _own_batch(batch_id: str) -> ResearchBatch:
    """A batch of the partner's institute; any other (or none, for an account without one) is a 404."""
    if not _has_institute():
        abort(404)
    return batches.get_partner_batch(db(), actor=current_actor(), batch_id=batch_id)


def _certificate() -> bytes | None:
    upload = file_part(request, "certificate")
    if upload is None or not upload.filename:
        return None
    body = upload.read(MAX_CERTIFICATE_BYTES + 1)
    if len(body) > MAX_CERTIFICATE_BYTES:
        raise TooLarge("certificate", gettext("The certificate may be at most 10 MB."))
    return body or None


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("confirmed_on", gettext("use a date (2025-01-31)")) from None
