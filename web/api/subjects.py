"""Data-subject requests API (compliance): register, list, fulfil, extend, withdraw, lift, and download access
packages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, jsonify, stream_with_context
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from spectree import Response as SpecResponse

from recordings_service.db import utcnow
from recordings_service.iso_input import Moment
from recordings_service.models import SubjectRequest
from recordings_service.permissions import Permission
from recordings_service.privacy import (
    fulfilment,
    package_queue,
    request_lists,
    restriction,
    restriction_ledger,
    subjects,
    withdrawal,
)
from recordings_service.privacy.rectification import SegmentFix
from recordings_service.recordings import IsoDatetime
from recordings_service.storage.encryption import CHUNK, PlaintextReader
from web.access import current_actor, requires
from web.api import api_spec
from web.api.file_answers import FileAnswer
from web.api.validation import ErrorBody, next_cursor, refuse_invalid, trimmed
from web.database import db, runtime
from web.i18n import organisation_zone

bp = Blueprint("subjects_api", __name__, url_prefix="/api/v1")
Reason = Annotated[str, trimmed(subjects.MAX_REASON, min_length=1)]
Kind = Literal["access", "objection", "rectification", "restriction", "erasure"]


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ref: str = Field(min_length=1, max_length=100)
    kind: Kind
    received_at: Moment = Field(description="when the request reached us; the deadline counts from it")


class SegmentFixIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment: int = Field(ge=0, description="the segment's number in the transcript, from 0")
    text: str = Field(min_length=1, max_length=5000)


class FulfilIn(BaseModel):
    """Objection: `research` / `marketing`. Rectification: `recording_id` with `metadata` and/or `transcript`."""

    model_config = ConfigDict(extra="forbid")

    research: bool | None = None
    marketing: bool | None = None
    recording_id: str | None = Field(default=None, max_length=26)
    metadata: dict[str, Any] | None = Field(
        default=None, description="language, direction, notice_given, agreement_made, queue"
    )
    transcript: list[SegmentFixIn] | None = Field(default=None, max_length=1000)


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: Literal[1, 2]
    reason: Reason

    @field_validator("months", mode="before")
    @classmethod
    def _a_json_integer(cls, value: Any) -> Any:
        # A literal matches by equality, so `true` (== 1) and `1.0` would pass for 1: a body takes each field's JSON
        # type only.
        if type(value) is not int:
            raise PydanticCustomError("literal_error", "Input should be 1 or 2")
        return value


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class RequestsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ref: str | None = Field(default=None, min_length=1, max_length=100)
    open: bool | None = Field(default=None, description="true: unanswered requests; false: answered ones")
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=subjects.MAX_PAGE)


class AccessPackageOut(BaseModel):
    state: str = Field(
        description="queued, building, ready, expired or failed; withdrawn when the customer's recordings were erased"
    )
    sha256: str | None
    size: int | None
    ready_at: IsoDatetime | None
    expires_at: IsoDatetime | None
    error: str | None
    download: str | None = Field(description="where to download it while it is ready")


class SubjectRequestOut(BaseModel):
    id: str
    customer_ref: str
    kind: str
    received_at: IsoDatetime
    due_at: IsoDatetime
    extended_until: IsoDatetime | None
    extension_reason: str | None
    deadline: IsoDatetime
    days_left: int = Field(
        description="whole days to the deadline, negative when overdue; an answered request's, those left when answered"
    )
    overdue: bool
    completed_at: IsoDatetime | None
    lifted_at: IsoDatetime | None
    chargeable: bool = Field(
        description="an access copy within 12 months of an earlier one the customer was given (its package downloaded)"
    )
    outcome: dict[str, Any] = Field(description="erasure: deleted ids and each kept recording with its reason")
    created_by: str | None
    created_at: IsoDatetime
    package: AccessPackageOut | None


class RequestPageOut(BaseModel):
    items: list[SubjectRequestOut]
    next_cursor: str | None


def request_out(request: SubjectRequest, *, now: datetime | None = None) -> SubjectRequestOut:
    now = now or utcnow()
    package = None
    if request.package_state is not None:
        ready = request.package_state == "ready"
        package = AccessPackageOut(
            state=request.package_state,
            sha256=request.package_sha256,
            size=request.package_size,
            ready_at=request.package_ready_at,
            expires_at=request.package_expires_at,
            error=request.package_error,
            download=f"/api/v1/subject-requests/{request.id}/package" if ready else None,
        )
    return SubjectRequestOut(
        id=request.id,
        customer_ref=request.customer_ref,
        kind=request.kind,
        received_at=request.received_at,
        due_at=request.due_at,
        extended_until=request.extended_until,
        extension_reason=request.extension_reason,
        deadline=request.deadline,
        days_left=subjects.days_left(request, now=now, zone=organisation_zone()),
        overdue=request.open and request.deadline < now,
        completed_at=request.completed_at,
        lifted_at=request.lifted_at,
        chargeable=request.chargeable,
        outcome=request.outcome,
        created_by=request.created_by,
        created_at=request.created_at,
        package=package,
    )


def _answer(body: FulfilIn) -> fulfilment.Answer:
    fixes = None if body.transcript is None else [SegmentFix(item.segment, item.text) for item in body.transcript]
    return fulfilment.Answer(
        research=body.research,
        marketing=body.marketing,
        recording_id=body.recording_id,
        metadata=body.metadata,
        transcript=fixes,
    )


@bp.post("/subject-requests")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=SpecResponse(HTTP_201=SubjectRequestOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=["subject requests"],
    before=refuse_invalid,
)
def create_request(json: RequestIn) -> tuple[Response, int]:
    """Register a request of a customer (by CRM reference); it is due one calendar month after `received_at`. The
    customer's open request of the same kind received at the same moment is registered once: 409 names it."""
    request = subjects.create_request(
        db(),
        actor=current_actor(),
        customer_ref=json.customer_ref,
        kind=json.kind,
        received_at=json.received_at,
        zone=organisation_zone(),
    )
    db().commit()
    return jsonify(request_out(request).model_dump(mode="json")), 201


@bp.get("/subject-requests")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=RequestPageOut, HTTP_422=ErrorBody), tags=["subject requests"], before=refuse_invalid
)
def list_requests(query: RequestsQuery) -> Response:
    """Requests newest first, of one customer (`customer_ref`) or all; `open=true` for unanswered ones. A
    `customer_ref` that registering a request refuses (another letter case than a known customer's, an invisible
    character) is refused alike, 422 naming it."""
    rows = request_lists.list_requests(
        db(), customer_ref=query.customer_ref, open_only=query.open, cursor=query.cursor, limit=query.limit + 1
    )
    now = utcnow()
    body = RequestPageOut(
        items=[request_out(row, now=now) for row in rows[: query.limit]],
        next_cursor=next_cursor(rows, query.limit, request_lists.request_cursor),
    )
    return jsonify(body.model_dump(mode="json"))


@bp.get("/subject-requests/<request_id>")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(resp=SpecResponse(HTTP_200=SubjectRequestOut, HTTP_404=ErrorBody), tags=["subject requests"])
def get_request(request_id: str) -> Response:
    """One subject request with its deadline, outcome and package."""
    return jsonify(request_out(subjects.get_request(db(), request_id)).model_dump(mode="json"))


@bp.post("/subject-requests/<request_id>/fulfil")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=SpecResponse(
        HTTP_200=SubjectRequestOut,
        HTTP_202=SubjectRequestOut,
        HTTP_404=ErrorBody,
        HTTP_409=ErrorBody,
        HTTP_422=ErrorBody,
    ),
    tags=["subject requests"],
    before=refuse_invalid,
)
def fulfil_request(request_id: str, json: FulfilIn) -> tuple[Response, int]:
    """Carry the request out: access queues its package (202); the others take effect at once (200)."""
    rt = runtime()
    done = fulfilment.fulfil_request(
        db(),
        rt.store,
        actor=current_actor(),
        request_id=request_id,
        answer=_answer(json),
        zone=rt.settings.zone,
        customer_number_pattern=rt.settings.customer_number_rule,
    )
    db().commit()
    fulfilment.after_commit(db(), rt.store, done)
    db().commit()
    return jsonify(request_out(done.request).model_dump(mode="json")), 202 if done.queued else 200


@bp.post("/subject-requests/<request_id>/extend")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=SubjectRequestOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=["subject requests"],
    before=refuse_invalid,
)
def extend_request(request_id: str, json: ExtendIn) -> Response:
    """Extend the deadline once, by one or two further months, with the reason (Art. 12(3))."""
    request = subjects.extend_request(
        db(),
        actor=current_actor(),
        request_id=request_id,
        months=json.months,
        reason=json.reason,
        zone=organisation_zone(),
    )
    db().commit()
    return jsonify(request_out(request).model_dump(mode="json"))


@bp.post("/subject-requests/<request_id>/withdraw")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=SubjectRequestOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=["subject requests"],
    before=refuse_invalid,
)
def withdraw_request(request_id: str, json: WithdrawIn) -> Response:
    """Close a request registered by mistake (the wrong customer, or twice) with nothing carried out; the reason is
    kept in its `outcome` and audited, and an access package still being built is withdrawn. 409 when closed."""
    request = withdrawal.withdraw_request(db(), actor=current_actor(), request_id=request_id, reason=json.reason)
    db().commit()
    return jsonify(request_out(request).model_dump(mode="json"))


@bp.post("/subject-requests/<request_id>/lift")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=SubjectRequestOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=["subject requests"]
)
def lift_restriction(request_id: str) -> Response:
    """End a restriction: the customer's calls can be played and exported again (unless another one holds)."""
    request = restriction.lift_restriction(db(), actor=current_actor(), request_id=request_id)
    db().commit()
    restriction_ledger.record_restriction(runtime().store, request)
    return jsonify(request_out(request).model_dump(mode="json"))


@bp.get("/subject-requests/<request_id>/package")
@requires(Permission.SUBJECT_REQUESTS)
@api_spec.validate(
    resp=FileAnswer("application/zip", HTTP_404=ErrorBody, HTTP_409=ErrorBody),
    tags=["subject requests"],
    skip_validation=True,  # the answer is streamed
)
def download_package(request_id: str) -> Response:
    """The access package (ZIP), decrypted as it is sent, while it is valid; audited."""
    rt = runtime()
    request, reader = package_queue.open_package(
        db(), rt.store, rt.envelope, actor=current_actor(), request_id=request_id
    )
    db().commit()
    response = Response(stream_with_context(_chunks(reader)), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="subject-access-{request.id}.zip"'
    if request.package_size is not None:
        response.headers["Content-Length"] = str(request.package_size)
    return response


def _chunks(reader: PlaintextReader) -> Iterator[bytes]:
    with reader:
        while chunk := reader.read(CHUNK):
            yield chunk
