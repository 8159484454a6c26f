"""Research API for partners (role research_partner, token scope `partner`): their institute's batches, the
package download inside the access window, and the confirmation of return or destruction."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field
from spectree import Response as SpecResponse

from recordings_service.errors import Invalid
from recordings_service.permissions import Permission
from recordings_service.research import batches, confirmations, portal
from web.access import current_actor, requires
from web.api import api_spec
from web.api.ranges import entity_tag, ranged_response
from web.api.research_shapes import ConfirmationOut, PartnerBatchPageOut, confirmation_out, partner_batch_out
from web.api.validation import ErrorBody, as_json
from web.database import db, runtime
from web.same_site import refuse_cross_site

bp = Blueprint("research_partner_api", __name__, url_prefix="/api/v1")
TAGS = ["research partner"]


@bp.get("/research/partner/batches")
@requires(Permission.PARTNER_PORTAL)
@api_spec.validate(resp=SpecResponse(HTTP_200=PartnerBatchPageOut), tags=TAGS)
def partner_batches() -> tuple[Response, int]:
    """The partner's institute's batches (approved ones), newest first."""
    rows = batches.partner_batches(db(), actor=current_actor())
    body = PartnerBatchPageOut(items=[partner_batch_out(b) for b in rows], next_cursor=None)
    return as_json(body)


# Not described through spectree: its response hook reads the whole body, and this one is streamed.
@bp.get("/research/batches/<batch_id>/package")
@requires(Permission.PARTNER_PORTAL)
def download_package(batch_id: str) -> Response:
    """The package ZIP inside the access window (single byte ranges resume a broken download); audited.

    A browser session's request that another site made (a link or image on its page) is refused, audited: it
    would count as the institute's download, which owes a confirmation, though no one there asked for it."""
    refuse_cross_site(object_type="research_batch", object_id=batch_id)
    rt = runtime()
    actor = current_actor()
    batch = portal.downloadable_batch(db(), actor=actor, batch_id=batch_id)

    def read(start: int, stop: int) -> Any:
        portal.record_download(db(), actor=actor, batch=batch, start=start, stop=stop)
        db().commit()
        return portal.package_bytes(rt.store, rt.envelope, batch, start=start, stop=stop)

    # The package's own hash and key: a rebuilt package is another ZIP, and a resume must not splice the two.
    etag = entity_tag("research-package", batch.id, batch.package_key, batch.package_sha256, batch.package_size)
    response = ranged_response(batch.package_size or 0, "application/zip", read, etag=etag)
    response.headers["Content-Disposition"] = f'attachment; filename="research-{batch.id}.zip"'
    return response


class ConfirmationForm(BaseModel):
    """multipart/form-data; `certificate` is optional."""

    method: Literal["returned", "destroyed"]
    date: str = Field(description="YYYY-MM-DD, when the copies were returned or destroyed")
    signer: str
    title: str
    statement: str
    certificate: bytes | None = Field(default=None, description="a PDF, at most 10 MB")


@bp.post("/research/batches/<batch_id>/confirmation")
@requires(Permission.PARTNER_PORTAL)
@api_spec.validate(
    form=ConfirmationForm,
    resp=SpecResponse(
        HTTP_201=ConfirmationOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_413=ErrorBody, HTTP_422=ErrorBody
    ),
    tags=TAGS,
    skip_validation=True,  # read from the form by the handler (the file part must be size-checked first)
)
def submit_confirmation(batch_id: str) -> tuple[Response, int]:
    """Confirm that the batch's data was returned or destroyed.

    multipart/form-data: method (returned|destroyed), date (YYYY-MM-DD), signer, title, statement, and an
    optional `certificate` PDF (≤ 10 MB). A batch nothing of which was downloaded holds no copy to account for:
    409 `not_downloaded` (it closes by itself when its access window ends)."""
    form = request.form
    certificate = request.files.get("certificate")
    body = certificate.read(confirmations.MAX_CERTIFICATE_BYTES + 1) if certificate and certificate.filename else None
    rt = runtime()
    confirmation = confirmations.submit_confirmation(
        db(),
        rt.store,
        rt.envelope,
        actor=current_actor(),
        batch_id=batch_id,
        method=form.get("method", ""),
        confirmed_on=_form_date(form.get("date")),
        signer=form.get("signer", ""),
        title=form.get("title", ""),
        statement=form.get("statement", ""),
        certificate=body,
    )
    db().commit()
    return as_json(confirmation_out(confirmation), 201)


def _form_date(value: str | None) -> date:
    if not value:
        raise Invalid("date", "the date of the return or destruction (YYYY-MM-DD)", code="missing")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("date", "a date as YYYY-MM-DD", code="invalid_date") from None
