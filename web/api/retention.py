"""Retention API (compliance): policies and their Art. 30 export, legal holds, and the sweep's receipts."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse

from recordings_service.permissions import Permission
from recordings_service.privacy import hold_ledger, holds, retention, sweep
from recordings_service.recordings import IsoDatetime
from recordings_service.spreadsheets import BYTE_ORDER_MARK, spreadsheet_safe
from web.access import current_actor, requires
from web.api import api_spec
from web.api.file_answers import FileAnswer
from web.api.validation import ErrorBody, NoQuery, next_id_cursor, refuse_invalid, trimmed
from web.database import db, runtime
from web.i18n import organisation_zone, spreadsheet_dialect

bp = Blueprint("retention_api", __name__, url_prefix="/api/v1")
MAX_PAGE = 200
Reason = Annotated[str, trimmed(holds.MAX_REASON, min_length=1)]


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str = Field(description="verification, quality_study, training, no_agreement, or maximum (the cap)")
    keep: int
    unit: str = Field(description="days or months, counted from the start of the call")
    basis: str = Field(description="the documented legal basis of the period")
    updated_by: str | None
    updated_at: IsoDatetime


class PoliciesOut(BaseModel):
    items: list[PolicyOut]


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: int = Field(ge=1)
    unit: str = Field(description="days or months")


class PolicyIn(PeriodIn):
    basis: Reason


class PreviewOut(BaseModel):
    rule: str
    affected: int = Field(description="live recordings whose retain_until the change would move")
    due_now: int = Field(
        description="of those, how many would be past their new retain_until at once (not on legal hold nor "
        "restricted): the next retention sweep deletes them"
    )


class PolicyChangedOut(BaseModel):
    policy: PolicyOut
    recomputed: int


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: str | None = Field(default=None, min_length=1, max_length=26)
    customer_ref: str | None = Field(default=None, min_length=1, max_length=100)
    reason: Reason


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class HoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    recording_id: str | None
    customer_ref: str | None
    reason: str
    placed_by: str | None
    placed_at: IsoDatetime
    released_by: str | None
    released_at: IsoDatetime | None
    release_reason: str | None
    active: bool


class HoldPlacedOut(HoldOut):
    """The hold as the list shows it, with how many recordings it covers."""

    recordings: int = Field(description="live recordings the hold covers now")


class HoldsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class HoldPageOut(BaseModel):
    items: list[HoldOut]
    next_cursor: str | None


class ReceiptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    started_at: IsoDatetime
    finished_at: IsoDatetime
    duration_s: float
    recordings: int
    counts: dict[str, int]
    first_recording_id: str | None
    last_recording_id: str | None
    actor: str


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class ReceiptPageOut(BaseModel):
    items: list[ReceiptOut]
    next_cursor: str | None


# ---------------------------------------------------------------- policies


@bp.get("/retention/policies")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=PoliciesOut, HTTP_422=ErrorBody), tags=["retention"], before=refuse_invalid
)
def list_policies(query: NoQuery) -> Response:
    """The retention policy table (CSV for the Art. 30 record: `/retention/policies.csv`)."""
    items = [PolicyOut.model_validate(row) for row in retention.list_policies(db())]
    return jsonify(PoliciesOut(items=items).model_dump(mode="json"))


@bp.get("/retention/policies.csv")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(resp=FileAnswer("text/csv"), tags=["retention"], skip_validation=True)
def export_policies() -> Response:
    """The policy table as CSV for the Art. 30 record; the export is audited before it leaves."""
    rows = retention.export_policies(db(), actor=current_actor())
    db().commit()
    buffer = io.StringIO()
    # A spreadsheet then reads it as UTF-8, as the call list's export: a basis in Finnish kept its "ä" and "ö".
    buffer.write(BYTE_ORDER_MARK)
    # Separated as the reader's spreadsheet opens it (Finnish: semicolons), as the call list's and the trail's exports.
    writer = csv.writer(buffer, delimiter=spreadsheet_dialect().delimiter)
    writer.writerow(["rule", "keep", "unit", "basis", "updated_at"])
    for row in rows:
        # The basis is free text: a spreadsheet opening the Art. 30 record must not run it as a formula.
        writer.writerow([row.rule, row.keep, row.unit, spreadsheet_safe(row.basis), row.updated_at.isoformat()])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="retention-policies.csv"'
    return response


@bp.post("/retention/policies/<rule>/preview")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=PreviewOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=["retention"],
    before=refuse_invalid,
)
def preview_policy(rule: str, json: PeriodIn) -> Response:
    """How many recordings a change of this policy would recompute; nothing is changed."""
    preview = retention.preview_policy_change(db(), rule=rule, keep=json.keep, unit=json.unit, zone=organisation_zone())
    return jsonify(PreviewOut(rule=rule, affected=preview.affected, due_now=preview.due_now).model_dump(mode="json"))


@bp.put("/retention/policies/<rule>")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=PolicyChangedOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=["retention"],
    before=refuse_invalid,
)
def change_policy(rule: str, json: PolicyIn) -> Response:
    """Change a policy and recompute `retain_until` of every recording it affects (audited, naming what changed).
    The policy as it stands changes nothing: it is answered as it is, `recomputed` 0, and nothing is audited."""
    change = retention.apply_policy_change(
        db(),
        actor=current_actor(),
        rule=rule,
        keep=json.keep,
        unit=json.unit,
        basis=json.basis,
        zone=organisation_zone(),
    )
    db().commit()
    row = next(row for row in retention.list_policies(db()) if row.rule == rule)
    body = PolicyChangedOut(policy=PolicyOut.model_validate(row), recomputed=change.recomputed)
    return jsonify(body.model_dump(mode="json"))


# ---------------------------------------------------------------- legal holds


@bp.post("/legal-holds")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(
        HTTP_200=HoldPlacedOut, HTTP_201=HoldPlacedOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody
    ),
    tags=["legal holds"],
    before=refuse_invalid,
)
def place_hold(json: HoldIn) -> tuple[Response, int]:
    """Hold one recording (`recording_id`) or every recording of a customer (`customer_ref`): 201 with the new hold,
    or 200 with the active hold already placed on that target for the same reason (a request sent twice)."""
    placed = holds.place_hold(
        db(), actor=current_actor(), reason=json.reason, recording_id=json.recording_id, customer_ref=json.customer_ref
    )
    db().commit()
    if placed.new:
        hold_ledger.record_hold(db(), runtime().store, placed.hold)
    hold = HoldOut.model_validate(placed.hold).model_dump()
    body = HoldPlacedOut(**hold, recordings=placed.recordings).model_dump(mode="json")
    return jsonify(body), 201 if placed.new else 200


@bp.post("/legal-holds/<hold_id>/release")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=HoldOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=["legal holds"],
    before=refuse_invalid,
)
def release_hold(hold_id: str, json: ReleaseIn) -> Response:
    """Release a hold; its recordings become deletable again unless another hold covers them."""
    hold = holds.release_hold(db(), actor=current_actor(), hold_id=hold_id, reason=json.reason)
    db().commit()
    hold_ledger.record_hold(db(), runtime().store, hold)
    return jsonify(HoldOut.model_validate(hold).model_dump(mode="json"))


@bp.get("/legal-holds")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=HoldPageOut, HTTP_422=ErrorBody), tags=["legal holds"], before=refuse_invalid
)
def list_holds(query: HoldsQuery) -> Response:
    """Holds newest first (`active=true` for those in force); pass `next_cursor` back as `cursor`. Each listing is
    audited (`legal_hold.listed`): holds name customers and the disputes they are in."""
    page = holds.browse_holds(db(), actor=current_actor(), active=query.active, cursor=query.cursor, limit=query.limit)
    db().commit()
    body = HoldPageOut(items=[HoldOut.model_validate(row) for row in page.items], next_cursor=page.next_cursor)
    return jsonify(body.model_dump(mode="json"))


# ---------------------------------------------------------------- receipts


@bp.get("/retention/receipts")
@requires(Permission.RETENTION_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=ReceiptPageOut, HTTP_422=ErrorBody), tags=["retention"], before=refuse_invalid
)
def list_receipts(query: PageQuery) -> Response:
    """Deletion receipts, newest first: one per sweep run, with counts by kind and first/last recording id."""
    rows = sweep.list_receipts(db(), cursor=query.cursor, limit=query.limit + 1)
    body = ReceiptPageOut(
        items=[ReceiptOut.model_validate(row) for row in rows[: query.limit]],
        next_cursor=next_id_cursor(rows, query.limit, sweep.CURSOR_TAG),
    )
    return jsonify(body.model_dump(mode="json"))
