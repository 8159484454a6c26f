"""Custody: which batches a recording or a customer's recordings went into, and flagging outstanding ones
when the customer asks for erasure (the institute must be told, Art. 17(2) and 19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.customers import customer_reference
from recordings_service.db import utcnow
from recordings_service.errors import NotFound
from recordings_service.models import AuditEvent, BatchItem, Customer, Institute, ResearchBatch
from recordings_service.research.batches import OUTSTANDING
from recordings_service.research.lifecycle import DOWNLOADED, was_downloaded


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
    call_pseudonym: str
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
    """One answered request for a batch's package, as audited: who took which bytes, and when."""

    at: datetime
    user: str | None
    ip: str | None
    start: int  # the first byte served: 0 for a download from the start, more for a resumed one
    size: int  # bytes served


def download_history(session: Session, batch_id: str) -> list[Download]:
    """Every answered request for the batch's package, oldest first (the audit trail's `batch.downloaded`)."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.object_id == batch_id,
            AuditEvent.object_type == "research_batch",
            AuditEvent.action == DOWNLOADED,
        )
        .order_by(AuditEvent.seq)
    )
    return [
        Download(
            at=event.occurred_at,
            user=event.actor_name,
            ip=event.ip,
            start=int(event.details.get("start", 0)),
            size=int(event.details.get("bytes", 0)),
        )
        for event in session.scalars(query)
    ]


def recording_custody(session: Session, recording_id: str) -> list[CustodyRecord]:
    return _records(session, BatchItem.recording_id == recording_id)


def customer_custody(session: Session, customer_id: str) -> list[CustodyRecord]:
    return _records(session, BatchItem.customer_id == customer_id)


def customer_id_of(session: Session, customer_ref: str) -> str:
    customer_id = session.scalar(select(Customer.id).where(Customer.customer_ref == customer_reference(customer_ref)))
    if customer_id is None:
        raise NotFound(f"no recordings of customer {customer_ref}")
    return customer_id


def flag_erasure(session: Session, *, actor: Actor, customer_id: str, request_id: str) -> list[str]:
    """Flag every outstanding batch holding the customer's calls for follow-up with its institute."""
    flagged = []
    for record in customer_custody(session, customer_id):
        if not record.outstanding or record.batch_id in flagged:
            continue
        batch = session.get(ResearchBatch, record.batch_id, with_for_update=True)
        assert batch is not None
        pseudonyms = sorted(
            {item.customer_pseudonym or "" for item in _items_of(session, batch.id, customer_id)} - {""}
        )
        batch.follow_up = [
            *batch.follow_up,
            {"request_id": request_id, "customer_pseudonyms": pseudonyms, "flagged_at": utcnow().isoformat()},
        ]
        flagged.append(batch.id)
        record_event(
            session,
            actor=actor,
            action="research.erasure_follow_up",
            object_type="research_batch",
            object_id=batch.id,
            details={"request_id": request_id},
        )
    return flagged


def objections_to_pass_on(session: Session, batch: ResearchBatch) -> list[str]:
    """The pseudonyms of customers who objected to research after their calls went out in this batch, while the
    institute may still hold them: it must be told to stop using those calls (Art. 21 and 19). An objection made
    before the package was built left the call out; one made since is not in the batch's `follow_up`, which
    erasure requests fill, so it is read here from the customers as they are now."""
    if batch.state not in OUTSTANDING or not was_downloaded(session, batch.id):
        return []
    query = (
        select(BatchItem.customer_pseudonym)
        .join(Customer, Customer.id == BatchItem.customer_id)
        .where(
            BatchItem.batch_id == batch.id,
            BatchItem.withdrawn_reason.is_(None),
            Customer.objects_to_research.is_(True),
        )
        .distinct()
    )
    return sorted(pseudonym for pseudonym in session.scalars(query) if pseudonym)


def _items_of(session: Session, batch_id: str, customer_id: str) -> list[BatchItem]:
    query = select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.customer_id == customer_id)
    return list(session.scalars(query))


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
