"""Custody: which batches a recording or a customer's recordings went into, and who downloaded their packages when.
The follow-ups the institute is asked to act on are in `follow_ups`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.customers import customer_reference
from recordings_service.errors import NotFound, Refusal
from recordings_service.models import AuditEvent, BatchItem, Customer, Institute, ResearchBatch
from recordings_service.recordings import get_playable_recording
from recordings_service.research.batches import OUTSTANDING
from recordings_service.research.lifecycle import DOWNLOAD_STARTED, SERVING


@dataclass(frozen=True)
class CustodyRecord:
    """One batch a recording went (or was selected to go) into."""

    batch_id: str
    recording_id: str
    study: str
    institute_id: str
    institute: str
    country: str
    state: str
    audio: str
    call_pseudonym: str | None  # None once the batch closed: forgotten with its key
    withdrawn_reason: str | None  # left out when the package was built
    built_at: datetime | None
    access_end: datetime
    study_end: date
    closed_at: datetime | None
    closed_reason: str | None = None  # a ClosedReason once closed

    @property
    def outstanding(self) -> bool:
        """The institute may hold a copy: custody has not ended."""
        return self.state in OUTSTANDING and self.withdrawn_reason is None


@dataclass(frozen=True)
class Download:
    """One request for a batch's package that was answered, as audited: who took which bytes, and when it began."""

    at: datetime
    user: str | None
    ip: str | None
    start: int  # the first byte served: 0 for a download from the start, more for a resumed one
    size: int | None  # bytes that went out; None when the answer never ended (unknown)
    # False when the connection broke before every byte asked for went out; None when recorded before that
    # was known (the bytes then are those asked for), or when the answer never ended.
    complete: bool | None
    # False when no end was recorded: the process serving it died while sending, so bytes may have left but how
    # many is unknown. It counts as downloaded all the same (`lifecycle.was_downloaded`).
    ended: bool = True
    # True for the answer that completed a download of the whole package (`portal.completes_package`); None when
    # recorded before that was decided so, or when the answer never ended.
    counted: bool | None = None


def download_history(session: Session, batch_id: str) -> list[Download]:
    """Every answered request for the package, in the order they began: each `batch.download_started` with the
    `batch.downloaded` that ended it, or alone (interrupted, bytes unknown) when none did; one ended before starts
    were recorded stands alone. An end naming no start (recorded before ends did) takes the earliest open start
    of the same account and bytes asked for."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.object_id == batch_id,
            AuditEvent.object_type == "research_batch",
            AuditEvent.action.in_(SERVING),
        )
        .order_by(AuditEvent.seq)
    )
    begun: dict[int, AuditEvent] = {}  # starts by seq, in order
    ends: dict[int, AuditEvent] = {}  # the end of each start, by the start's seq
    alone: list[AuditEvent] = []  # ends with no start
    for event in session.scalars(query):
        if event.action == DOWNLOAD_STARTED:
            begun[event.seq] = event
            continue
        started = event.details.get("started")
        if started is None:
            started = next((seq for seq, s in begun.items() if seq not in ends and _same_request(s, event)), None)
        if started in begun and started not in ends:
            ends[started] = event
        else:
            alone.append(event)
    rows = [(seq, _download(start, ends.get(seq))) for seq, start in begun.items()]
    rows += [(end.seq, _download(end, end)) for end in alone]
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def _same_request(start: AuditEvent, end: AuditEvent) -> bool:
    return start.actor_name == end.actor_name and all(
        start.details.get(key) == end.details.get(key) for key in ("start", "requested")
    )


def _download(start: AuditEvent, end: AuditEvent | None) -> Download:
    return Download(
        at=start.occurred_at,
        user=start.actor_name,
        ip=start.ip,
        start=int(start.details.get("start", 0)),
        size=None if end is None else int(end.details.get("bytes", 0)),
        complete=None if end is None else end.details.get("complete"),
        ended=end is not None,
        counted=None if end is None else end.details.get("counted"),
    )


def recording_custody(session: Session, recording_id: str) -> list[CustodyRecord]:
    return _records(session, BatchItem.recording_id == recording_id)


def read_recording_custody(session: Session, *, actor: Actor, recording_id: str) -> list[CustodyRecord]:
    """Where the recording went for research, as compliance asks: audited as `recording.custody_read`. A recording
    never sent must exist (a deleted one's custody remains)."""
    records = recording_custody(session, recording_id)
    if not records:
        get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    record_event(
        session,
        actor=actor,
        action="recording.custody_read",
        object_type="recording",
        object_id=recording_id,
        details={"batches": len(records)},
    )
    return records


def read_customer_custody(session: Session, *, actor: Actor, customer_ref: str) -> list[CustodyRecord]:
    """Where the customer's recordings went for research: audited as `customer.custody_read`, naming the recordings
    (each one's trail lists it). An unknown reference is refused and audited too: probing references leaves a trace,
    though not the reference typed."""
    customer_id = session.scalar(select(Customer.id).where(Customer.customer_ref == customer_reference(customer_ref)))
    if customer_id is None:
        refusal = Refusal(actor, "customer.custody_refused", "customer", None, {"reason": "unknown_customer"})
        raise NotFound(f"no recordings of customer {customer_ref}", refusal=refusal)
    records = customer_custody(session, customer_id)
    named = ",".join(dict.fromkeys(record.recording_id for record in records))
    details = {"batches": len({record.batch_id for record in records}), "recordings": named}
    record_event(
        session,
        actor=actor,
        action="customer.custody_read",
        object_type="customer",
        object_id=customer_id,
        details=details,
    )
    return records


def customer_custody(session: Session, customer_id: str) -> list[CustodyRecord]:
    return _records(session, BatchItem.customer_id == customer_id)


def _records(session: Session, which) -> list[CustodyRecord]:  # type: ignore[no-untyped-def]
    rows = session.execute(
        select(BatchItem, ResearchBatch, Institute)
        .join(ResearchBatch, ResearchBatch.id == BatchItem.batch_id)
        .join(Institute, Institute.id == ResearchBatch.institute_id)
        .where(which)
        .order_by(ResearchBatch.id.desc(), BatchItem.position)
    )
    return [
        CustodyRecord(
            batch_id=batch.id,
            recording_id=item.recording_id,
            study=batch.study,
            institute_id=institute.id,
            institute=institute.name,
            country=institute.country,
            state=batch.state,
            audio=batch.audio,
            call_pseudonym=item.call_pseudonym,
            withdrawn_reason=item.withdrawn_reason,
            built_at=batch.built_at,
            access_end=batch.access_end,
            study_end=batch.study_end,
            closed_at=batch.closed_at,
            closed_reason=batch.closed_reason,
        )
        for item, batch, institute in rows
    ]
