"""Research API for compliance: institutes, batches and their four-eyes approval, decisions on the partner's
confirmation, and custody per recording and per customer. The partner's side is web/api/partner.py."""

from __future__ import annotations

from flask import Blueprint, Response
from spectree import Response as SpecResponse

from recordings_service.db import utcnow
from recordings_service.models.research import SafeguardKind
from recordings_service.permissions import Permission
from recordings_service.research import batches, confirmations, custody, early_end, institutes
from web.access import current_actor, requires
from web.api import api_spec
from web.api.file_answers import FileAnswer
from web.api.institute_shapes import InstituteIn, InstituteOut, InstitutesOut, SafeguardIn, institute_out
from web.api.research_queries import BatchesQuery
from web.api.research_shapes import (
    BatchIn,
    BatchOut,
    BatchPageOut,
    CustodyListOut,
    ReasonIn,
    batch_out,
    custody_out,
)
from web.api.validation import ErrorBody, NoQuery, as_json, next_id_cursor, refuse_invalid
from web.database import db, runtime
from web.same_site import refuse_cross_site

bp = Blueprint("research_api", __name__, url_prefix="/api/v1")
TAGS = ["research"]


@bp.post("/research/institutes")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_201=InstituteOut, HTTP_409=ErrorBody, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def create_institute(json: InstituteIn) -> tuple[Response, int]:
    """Register an institute; outside the EU/EEA give a transfer safeguard (or no batch can be approved)."""
    safeguard = None
    if json.safeguard is not None:
        safeguard = institutes.Safeguard(
            SafeguardKind(json.safeguard.kind), json.safeguard.reference, json.safeguard.on
        )
    institute = institutes.create_institute(
        db(),
        actor=current_actor(),
        name=json.name,
        country=json.country,
        agreement_ref=json.agreement_ref,
        agreement_date=json.agreement_date,
        contact=json.contact,
        safeguard=safeguard,
    )
    db().commit()
    return as_json(institute_out(institute), 201)


@bp.get("/research/institutes")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=InstitutesOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def list_institutes(query: NoQuery) -> tuple[Response, int]:
    """The registered research institutes with their transfer safeguards."""
    return as_json(InstitutesOut(items=[institute_out(i) for i in institutes.list_institutes(db())]))


@bp.get("/research/institutes/<institute_id>")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=InstituteOut, HTTP_404=ErrorBody), tags=TAGS)
def get_institute(institute_id: str) -> tuple[Response, int]:
    """One research institute: country, agreement and transfer safeguard."""
    return as_json(institute_out(institutes.get_institute(db(), institute_id)))


@bp.post("/research/institutes/<institute_id>/safeguard")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=InstituteOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def set_safeguard(institute_id: str, json: SafeguardIn) -> tuple[Response, int]:
    """Record the transfer safeguard of an institute outside the EU/EEA (SCC reference and date, or adequacy)."""
    safeguard = institutes.Safeguard(SafeguardKind(json.kind), json.reference, json.on)
    institute = institutes.set_safeguard(db(), actor=current_actor(), institute_id=institute_id, safeguard=safeguard)
    db().commit()
    return as_json(institute_out(institute))


@bp.post("/research/batches")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=BatchOut, HTTP_201=BatchOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def create_batch(json: BatchIn) -> tuple[Response, int]:
    """Select the calls (a draft): 201; the answer counts the calls excluded, by reason. Another user approves.

    The same request sent again by the same user within 10 minutes (a retry) makes no second draft: 200 with
    their draft of it, while it is still a draft."""
    submitted = batches.create_batch(
        db(),
        runtime().envelope,
        actor=current_actor(),
        reuse_recent=True,
        request=batches.BatchRequest(
            study=json.study,
            purpose=json.purpose,
            institute_id=json.institute_id,
            criteria=json.criteria,
            study_end=json.study_end,
            access_start=json.access_start,
            access_end=json.access_end,
            audio=json.audio,
            metadata_fields=tuple(json.metadata_fields),
        ),
    )
    db().commit()
    return as_json(batch_out(submitted.made), 201 if submitted.new else 200)


@bp.get("/research/batches")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=BatchPageOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def list_batches(query: BatchesQuery) -> tuple[Response, int]:
    """Newest first; filter by `state` or `institute_id`."""
    rows = batches.list_batches(
        db(),
        institute_id=query.institute_id,
        states=[query.state] if query.state else None,
        cursor=query.cursor,
        limit=query.limit + 1,
    )
    page = BatchPageOut(
        items=[batch_out(b) for b in rows[: query.limit]],
        next_cursor=next_id_cursor(rows, query.limit, batches.CURSOR_TAG),
    )
    return as_json(page)


@bp.get("/research/batches/<batch_id>")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=BatchOut, HTTP_404=ErrorBody), tags=TAGS)
def get_batch(batch_id: str) -> tuple[Response, int]:
    """State, exclusion counts, build progress, downloads and confirmations."""
    return as_json(batch_out(batches.get_batch(db(), batch_id)))


@bp.post("/research/batches/<batch_id>/approve")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=BatchOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS
)
def approve_batch(batch_id: str) -> tuple[Response, int]:
    """A second compliance user approves (the creator cannot: 403); the jobs process then builds the package."""
    batch = batches.approve_batch(db(), actor=current_actor(), batch_id=batch_id)
    db().commit()
    return as_json(batch_out(batch))


@bp.post("/research/batches/<batch_id>/reject")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=BatchOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def reject_batch(batch_id: str, json: ReasonIn) -> tuple[Response, int]:
    """A second compliance user refuses the draft with the reason: nothing is built, the pseudonym key is destroyed."""
    batch = batches.reject_batch(db(), actor=current_actor(), batch_id=batch_id, reason=json.reason)
    db().commit()
    return as_json(batch_out(batch))


@bp.post("/research/batches/<batch_id>/end-access")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=BatchOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def end_access(batch_id: str, json: ReasonIn) -> tuple[Response, int]:
    """End an approved batch's access window now, with the reason (an agreement ended, a suspected breach): the
    package is no longer served, and the batch goes on as at its window's end (409 when its window is over)."""
    batch = early_end.end_access(db(), actor=current_actor(), batch_id=batch_id, reason=json.reason, now=utcnow())
    db().commit()
    return as_json(batch_out(batch))


@bp.post("/research/batches/<batch_id>/confirmation/accept")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=BatchOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS)
def accept_confirmation(batch_id: str) -> tuple[Response, int]:
    """Accept the partner's confirmation: the batch closes and its pseudonym key is destroyed."""
    batch = confirmations.accept_confirmation(db(), actor=current_actor(), batch_id=batch_id)
    db().commit()
    return as_json(batch_out(batch))


@bp.post("/research/batches/<batch_id>/confirmation/reject")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=BatchOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def reject_confirmation(batch_id: str, json: ReasonIn) -> tuple[Response, int]:
    """Send the confirmation back to the partner with the reason."""
    batch = confirmations.reject_confirmation(db(), actor=current_actor(), batch_id=batch_id, reason=json.reason)
    db().commit()
    return as_json(batch_out(batch))


@bp.get("/research/confirmations/<confirmation_id>/certificate")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=FileAnswer("application/pdf", HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody),
    tags=TAGS,
    skip_validation=True,
)
def download_certificate(confirmation_id: str) -> Response:
    """The certificate PDF the partner uploaded; audited. Not for a request another site's page made."""
    refuse_cross_site(object_type="custody_confirmation", object_id=confirmation_id)
    rt = runtime()
    body = confirmations.open_certificate(
        db(), rt.store, rt.envelope, actor=current_actor(), confirmation_id=confirmation_id
    )
    db().commit()
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{confirmation_id}.pdf"'
    return response


@bp.get("/recordings/<recording_id>/custody")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=CustodyListOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def recording_custody(recording_id: str, query: NoQuery) -> tuple[Response, int]:
    """The research batches this recording went into (or was selected for), with their custody state."""
    records = custody.read_recording_custody(db(), actor=current_actor(), recording_id=recording_id)
    db().commit()
    return as_json(custody_out(records))


@bp.get("/customers/<path:customer_ref>/custody")
@requires(Permission.RESEARCH_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=CustodyListOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def customer_custody(customer_ref: str, query: NoQuery) -> tuple[Response, int]:
    """Every research batch any of the customer's recordings went into."""
    records = custody.read_customer_custody(db(), actor=current_actor(), customer_ref=customer_ref)
    db().commit()
    return as_json(custody_out(records))
