"""Research API for partners (role research_partner, token scope `partner`): their institute's batches, the
package download inside the access window, and the confirmation of return or destruction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field
from spectree import Response as SpecResponse
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.errors import Invalid
from recordings_service.permissions import Permission
from recordings_service.research import batches, confirmations, follow_ups, portal
from web.access import current_actor, current_principal, requires
from web.api import api_spec
from web.api.file_answers import FileAnswer
from web.api.partner_shapes import PartnerBatchesQuery
from web.api.ranges import RangeHeaders, entity_tag, ranged_response
from web.api.research_shapes import (
    ConfirmationOut,
    PartnerBatchOut,
    PartnerBatchPageOut,
    confirmation_out,
    partner_batch_out,
)
from web.api.validation import ErrorBody, as_json, next_id_cursor, refuse_invalid
from web.database import db, runtime
from web.form_text import file_part, file_parts
from web.nul_bytes import form_checked_after_lookup, refuse_form_text
from web.same_site import refuse_cross_site

bp = Blueprint("research_partner_api", __name__, url_prefix="/api/v1")
TAGS = ["research partner"]


@bp.get("/research/partner/batches")
@requires(Permission.PARTNER_PORTAL)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=PartnerBatchPageOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def partner_batches(query: PartnerBatchesQuery) -> tuple[Response, int]:
    """The partner's institute's batches (approved ones), newest first; `next_cursor` pages on."""
    rows = batches.partner_batches(db(), actor=current_actor(), cursor=query.cursor, limit=query.limit + 1)
    body = PartnerBatchPageOut(
        items=[partner_batch_out(b) for b in rows[: query.limit]],
        next_cursor=next_id_cursor(rows, query.limit, batches.CURSOR_TAG),
    )
    return as_json(body)


@bp.get("/research/batches/<batch_id>/package")
@requires(Permission.PARTNER_PORTAL)
@api_spec.validate(
    headers=RangeHeaders,
    resp=FileAnswer("application/zip", ranges=True, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody),
    tags=TAGS,
    skip_validation=True,  # the answer is streamed
)
def download_package(batch_id: str) -> Response:
    """The package ZIP inside the access window (single byte ranges resume a broken download); audited when the
    answer starts (`batch.download_started`) and, with the bytes that went out, when it ends (`batch.downloaded`).
    The batch's `downloads` counts a download once the whole package has gone out (`portal.completes_package`).

    A browser session's request that another site made (a link or image on its page) is refused, audited: it
    would count as the institute's download, which owes a confirmation, though no one there asked for it."""
    refuse_cross_site(object_type="research_batch", object_id=batch_id)
    rt = runtime()
    actor = current_actor()
    batch = portal.downloadable_batch(db(), actor=actor, batch_id=batch_id)
    principal = current_principal()
    assert principal is not None  # the endpoint needs one
    # Asked again while the answer goes on: the token it was asked with, else the browser session's version.
    token_id = principal.token_id
    session_version = None if token_id is not None else principal.user.session_version

    def read(start: int, stop: int) -> Any:
        started = portal.record_download_started(db(), actor=actor, batch=batch, start=start, stop=stop)
        db().commit()

        def sent(count: int, in_flight: int) -> None:
            # The request's session is closed by now: the answer ends after the view returned.
            with rt.sessions() as session:
                portal.record_download(
                    session,
                    actor=actor,
                    batch_id=batch_id,
                    started=started,
                    start=start,
                    requested=stop - start,
                    sent=count,
                    in_flight=in_flight,
                )
                session.commit()

        package = portal.package_bytes(rt.store, rt.envelope, batch, start=start, stop=stop)
        answer = _while_downloadable(
            package,
            rt.sessions,
            actor=actor,
            batch_id=batch_id,
            token_id=token_id,
            session_version=session_version,
        )
        return SentBytes(answer, on_end=sent)

    # The package's own hash and key: a rebuilt package is another ZIP, and a resume must not splice the two.
    etag = entity_tag("research-package", batch.id, batch.package_key, batch.package_sha256, batch.package_size)
    response = ranged_response(batch.package_size or 0, "application/zip", read, etag=etag)
    response.headers["Content-Disposition"] = f'attachment; filename="research-{batch.id}.zip"'
    return response


def _while_downloadable(
    chunks: Iterator[bytes],
    sessions: sessionmaker[Session],
    *,
    actor: Actor,
    batch_id: str,
    token_id: str | None,
    session_version: int | None,
) -> Iterator[bytes]:
    """`chunks` for as long as the package may go out and the principal may download, asked again every
    `portal.RECHECK_EVERY_S` in a session of its own (the request's is closed once the view returned): an end of
    access, a revoked token or a disabled account stops an answer in progress."""
    checked = time.monotonic()
    for chunk in chunks:
        if time.monotonic() - checked >= portal.RECHECK_EVERY_S:
            with sessions() as session:
                stopped = portal.stopped_downloading(
                    session, actor=actor, batch_id=batch_id, token_id=token_id, session_version=session_version
                )
                if stopped:
                    session.commit()
                    return
            checked = time.monotonic()
        yield chunk


class SentBytes:
    """A streamed body that counts the bytes that went out and reports them once when it ends, finished or not.

    A chunk counts once the server asks for the next one (it has written this one to the connection); a server
    that could not write it (the client went away) closes the body instead, which every WSGI server does, so a
    broken download reports what reached the connection, not what was asked for, and beside it the chunk the
    server held (`in_flight`), of which none, some or all went out."""

    def __init__(self, chunks: Iterator[bytes], *, on_end: Callable[[int, int], None]) -> None:
        self._chunks = chunks
        self._on_end = on_end
        self._sent = 0
        self._handed = 0  # the chunk the server holds, counted once it asks for the next
        self._ended = False

    def __iter__(self) -> SentBytes:
        return self

    def __next__(self) -> bytes:
        self._sent += self._handed
        self._handed = 0
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self.close()
            raise
        self._handed = len(chunk)
        return chunk

    def close(self) -> None:
        if self._ended:
            return
        self._ended = True
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # the decrypting reader and the store's response
        self._on_end(self._sent, self._handed)


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
@file_parts("certificate")
@form_checked_after_lookup
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
    409 `not_downloaded` (it closes by itself when its access window ends). Another institute's batch is 404
    (audited) whatever the form holds: the batch is looked up before the form is read."""
    batches.get_partner_batch(db(), actor=current_actor(), batch_id=batch_id)
    refuse_form_text()
    form = request.form
    certificate = file_part(request, "certificate")
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
    return as_json(confirmation_out(confirmation, submitter=current_actor().name), 201)


@bp.post("/research/batches/<batch_id>/follow-up/<int:number>/acknowledge")
@requires(Permission.PARTNER_PORTAL)
@api_spec.validate(resp=SpecResponse(HTTP_200=PartnerBatchOut, HTTP_404=ErrorBody), tags=TAGS)
def acknowledge_follow_up(batch_id: str, number: int) -> tuple[Response, int]:
    """Acknowledge follow-up request `number` of the batch (a customer's erasure request or objection to research
    to act on); compliance sees it outstanding until then. Acknowledging it again changes nothing."""
    batch = follow_ups.acknowledge_follow_up(db(), actor=current_actor(), batch_id=batch_id, number=number)
    db().commit()
    return as_json(partner_batch_out(batch))


def _form_date(value: str | None) -> date:
    if not value:
        raise Invalid("date", "the date of the return or destruction (YYYY-MM-DD)", code="missing")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("date", "a date as YYYY-MM-DD", code="invalid_date") from None
