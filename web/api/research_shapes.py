"""The research API's request and response shapes, shared by the compliance and partner endpoints."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recordings_service.iso_input import Day, Moment
from recordings_service.models import CustodyConfirmation, ResearchBatch
from recordings_service.recordings import IsoDatetime
from recordings_service.research import batches, confirmations, custody, follow_ups, portal, text
from recordings_service.research.lifecycle import confirmation_due
from recordings_service.research.selection import BatchCriteria
from web.api.validation import trimmed
from web.database import db, runtime

CLOSED_REASON = (
    "why the batch closed: `confirmed` (compliance accepted the institute's confirmation of return or destruction) "
    "or `never_downloaded` (the access window ended with nothing ever downloaded: the institute never held a copy "
    "and owes no confirmation) or `all_withdrawn` (its package was built with every call withdrawn, so nothing was "
    "offered and no confirmation is owed); null while the batch is open"
)
Text = Annotated[str, trimmed(text.MAX_TEXT, min_length=1)]
Name = Annotated[str, trimmed(200, min_length=1)]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    study: Name
    purpose: Text
    institute_id: str = Field(max_length=26)
    criteria: BatchCriteria
    study_end: Day
    access_start: Moment
    access_end: Moment
    audio: Literal["redacted", "original"] = "redacted"
    metadata_fields: list[str] = Field(
        default=list(batches.DEFAULT_METADATA), max_length=20, description=", ".join(batches.METADATA_FIELDS)
    )


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class ProgressOut(BaseModel):
    done: int
    total: int
    attempts: int
    error: str | None


class PackageOut(BaseModel):
    sha256: str | None
    size: int | None
    built_at: IsoDatetime | None
    purged_at: IsoDatetime | None = Field(description="when every version of the package objects was deleted")
    download: str | None = Field(
        description="the partner's download URL while the package may be downloaded; null whenever the download "
        "would be refused (outside the access window, not ready, expired or closed, or a confirmation pending)"
    )


class ConfirmationOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    method: str
    on: date = Field(alias="date", description="when the copies were returned or destroyed")
    signer: str
    title: str
    statement: str
    certificate_sha256: str | None
    certificate_size: int | None
    certificate: str | None = Field(description="where compliance downloads the certificate")
    submitted_at: IsoDatetime
    submitted_by: str | None = Field(description="the partner account that submitted it")
    decision: str | None = Field(description="accepted, rejected, or null while pending")
    decided_at: IsoDatetime | None
    rejection_reason: str | None


class FollowUpOut(BaseModel):
    """A request the institute must act on: a customer whose calls it may hold asked for erasure, objected to
    research or had their processing restricted; it stays outstanding until the institute's partner acknowledges
    it, or it ends (the request withdrawn, the restriction lifted)."""

    number: int = Field(description="its place in the batch's list, from 1: the acknowledgement names it")
    kind: str = Field(
        description="erasure (delete the customer's calls), objection (stop using and delete them), restriction "
        "(keep them unused) or withdrawn (return or destroy the calls named: the organisation withdrew them from the "
        "study)"
    )
    customer_pseudonyms: list[str]
    call_pseudonyms: list[str] = Field(description="a withdrawn follow-up's calls; empty for the other kinds")
    flagged_at: IsoDatetime | None
    acknowledged_at: IsoDatetime | None = Field(description="null while outstanding")
    acknowledged_by: str | None = Field(description="the partner account that acknowledged it")
    acknowledge: str | None = Field(
        description="where the partner acknowledges it (POST); null once acknowledged or ended"
    )
    ended_at: IsoDatetime | None = Field(description="when it stopped asking anything of the institute; null if not")
    ended: str | None = Field(
        description="why it ended: withdrawn (the request was registered by mistake: nothing to do for it) or lifted "
        "(the restriction was lifted: the calls may be used again); null while in force"
    )


class FollowUpFlagOut(FollowUpOut):
    request_id: str | None = Field(description="the data-subject request that raised it")
    reasons: list[str] = Field(
        description="why each of a withdrawn follow-up's calls was withdrawn (an exclusion reason, or deleted); "
        "not shown to the partner"
    )


class PartnerBatchOut(BaseModel):
    """A batch as its institute's partner sees it: the study, the window, the package and the confirmations; not
    how calls were chosen or left out (other people's objections), nor who at the controller made or approved it."""

    id: str
    study: str
    purpose: str
    institute_id: str
    institute: str
    state: str
    audio: str
    metadata_fields: list[str]
    study_end: date
    access_start: IsoDatetime
    access_end: IsoDatetime
    access_ended_early: bool = Field(description="the organisation ended the access window at access_end")
    overdue_from: IsoDatetime | None = Field(
        description="when a missing confirmation makes the batch overdue; null once none is owed (closed, rejected)"
    )
    calls: int = Field(description="calls in the package")
    package: PackageOut
    downloads: int = Field(description="completed downloads of the whole package (one resumed to its end: once)")
    last_download_at: IsoDatetime | None = Field(description="when the last completed download ended")
    closed_at: IsoDatetime | None
    confirmations: list[ConfirmationOut]
    closed_reason: str | None = Field(description=CLOSED_REASON)
    follow_up: list[FollowUpOut] = Field(
        description="customers' erasure requests, objections to research and restrictions to act on, each "
        "outstanding until acknowledged"
    )


class PartnerBatchPageOut(BaseModel):
    items: list[PartnerBatchOut]
    next_cursor: str | None


class DownloadOut(BaseModel):
    """One answered request for the package (the audit trail's `batch.download_started` and `batch.downloaded`)."""

    at: IsoDatetime = Field(description="when the answer began")
    user: str | None = Field(description="the partner account")
    ip: str | None
    start: int = Field(description="the first byte served: 0 from the start, more for a resumed download")
    bytes: int | None = Field(description="bytes that went out; null when the answer never ended (unknown)")
    complete: bool | None = Field(
        description="false when the connection broke before every byte asked for went out; null for a download "
        "recorded before that was known, or one that never ended"
    )
    ended: bool = Field(description="false when the process serving it died while sending: bytes may have left")
    counted: bool | None = Field(
        default=None, description="true for the answer that completed a download of the whole package (`downloads`)"
    )


class BatchOut(PartnerBatchOut):
    """A batch as compliance sees it: also how its calls were chosen, its build, reminders and who decided."""

    criteria: dict[str, Any]
    selected: int
    excluded: dict[str, int] = Field(description="calls matching the criteria but not sent, by reason")
    withdrawn: int = Field(description="calls left out when the package was built (e.g. an objection since)")
    progress: ProgressOut
    reminders_sent: int
    last_reminder_at: IsoDatetime | None
    follow_up: list[FollowUpFlagOut] = Field(  # type: ignore[assignment]
        description="erasure requests, objections to research and restrictions passed on to the institute, each "
        "outstanding until its partner acknowledges it"
    )
    download_history: list[DownloadOut] = Field(
        description="every answered request for the package, in the order they began"
    )
    objections: list[str] = Field(
        description="pseudonyms of customers who objected to research after the institute downloaded their calls, "
        "while it may still hold them: objections to pass on to the institute"
    )
    created_by: str | None
    created_at: IsoDatetime
    approved_by: str | None
    approved_at: IsoDatetime | None
    rejection_reason: str | None
    access_ended_by: str | None = Field(description="who ended the access window early (access_ended_reason: why)")
    access_ended_reason: str | None


class BatchPageOut(BaseModel):
    items: list[BatchOut]
    next_cursor: str | None


class CustodyOut(BaseModel):
    batch_id: str
    recording_id: str
    study: str
    institute_id: str
    institute: str
    country: str
    state: str
    outstanding: bool = Field(description="the institute may still hold a copy")
    audio: str
    withdrawn_reason: str | None
    built_at: IsoDatetime | None
    access_end: IsoDatetime
    study_end: date
    closed_at: IsoDatetime | None
    closed_reason: str | None = Field(description=CLOSED_REASON)


class CustodyListOut(BaseModel):
    items: list[CustodyOut]


def confirmation_out(confirmation: CustodyConfirmation, *, submitter: str | None) -> ConfirmationOut:
    link = None
    if confirmation.certificate_key is not None:
        link = f"/api/v1/research/confirmations/{confirmation.id}/certificate"
    return ConfirmationOut(
        id=confirmation.id,
        method=confirmation.method,
        on=confirmation.confirmed_on,
        signer=confirmation.signer,
        title=confirmation.title,
        statement=confirmation.statement,
        certificate_sha256=confirmation.certificate_sha256,
        certificate_size=confirmation.certificate_size,
        certificate=link,
        submitted_at=confirmation.submitted_at,
        submitted_by=submitter,
        decision=confirmation.decision,
        decided_at=confirmation.decided_at,
        rejection_reason=confirmation.rejection_reason,
    )


def follow_up_out(batch: ResearchBatch) -> list[FollowUpFlagOut]:
    url = f"/api/v1/research/batches/{batch.id}/follow-up/{{}}/acknowledge"
    return [
        FollowUpFlagOut(**asdict(flag), acknowledge=url.format(flag.number) if flag.outstanding else None)
        for flag in follow_ups.follow_ups(batch)
    ]


def batch_out(batch: ResearchBatch) -> BatchOut:
    return BatchOut(
        **{**dict(partner_batch_out(batch)), "follow_up": follow_up_out(batch)},
        criteria=batch.criteria,
        selected=batch.selected,
        excluded=batch.excluded,
        withdrawn=batch.items_withdrawn,
        progress=ProgressOut(
            done=batch.build_done, total=batch.selected, attempts=batch.build_attempts, error=batch.build_error
        ),
        reminders_sent=batch.reminders_sent,
        last_reminder_at=batch.last_reminder_at,
        download_history=[
            DownloadOut(
                at=served.at,
                user=served.user,
                ip=served.ip,
                start=served.start,
                bytes=served.size,
                complete=served.complete,
                ended=served.ended,
                counted=served.counted,
            )
            for served in custody.download_history(db(), batch.id)
        ],
        objections=follow_ups.objections_to_pass_on(db(), batch),
        created_by=batch.created_by,
        created_at=batch.created_at,
        approved_by=batch.approved_by,
        approved_at=batch.approved_at,
        rejection_reason=batch.rejection_reason,
        access_ended_by=batch.access_ended_by,
        access_ended_reason=batch.access_ended_reason,
    )


def partner_batch_out(batch: ResearchBatch) -> PartnerBatchOut:
    history = confirmations.confirmations_of(db(), batch.id)
    names = confirmations.submitters(db(), history)
    blocker = portal.download_blocker(db(), batch, history=history)
    return PartnerBatchOut(
        id=batch.id,
        study=batch.study,
        purpose=batch.purpose,
        institute_id=batch.institute_id,
        institute=batch.institute.name,
        state=batch.state,
        audio=batch.audio,
        metadata_fields=batch.metadata_fields,
        study_end=batch.study_end,
        access_start=batch.access_start,
        access_end=batch.access_end,
        access_ended_early=batch.access_ended_by is not None,
        overdue_from=confirmation_due(batch, grace_days=runtime().settings.research_grace_days),
        calls=batch.selected - batch.items_withdrawn,
        package=PackageOut(
            sha256=batch.package_sha256,
            size=batch.package_size,
            built_at=batch.built_at,
            purged_at=batch.package_purged_at,
            download=f"/api/v1/research/batches/{batch.id}/package" if blocker is None else None,
        ),
        downloads=batch.downloads,
        last_download_at=batch.last_download_at,
        closed_at=batch.closed_at,
        confirmations=[confirmation_out(c, submitter=names.get(c.id)) for c in history],
        closed_reason=batch.closed_reason,
        # The partner's shape leaves out which request raised each one and why a call was withdrawn (its notice,
        # card data in it): the controller's own record, personal to the customer.
        follow_up=[FollowUpOut(**flag.model_dump(exclude={"request_id", "reasons"})) for flag in follow_up_out(batch)],
    )


def custody_out(records: list[custody.CustodyRecord]) -> CustodyListOut:
    return CustodyListOut(
        items=[
            CustodyOut(
                batch_id=r.batch_id,
                recording_id=r.recording_id,
                study=r.study,
                institute_id=r.institute_id,
                institute=r.institute,
                country=r.country,
                state=r.state,
                outstanding=r.outstanding,
                audio=r.audio,
                withdrawn_reason=r.withdrawn_reason,
                built_at=r.built_at,
                access_end=r.access_end,
                study_end=r.study_end,
                closed_at=r.closed_at,
                closed_reason=r.closed_reason,
            )
            for r in records
        ]
    )
