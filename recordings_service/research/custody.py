"""Custody: which batches a recording or a customer's recordings went into, and flagging outstanding ones the
institute downloaded for follow-up when the customer asks for erasure, objects to research or has processing
restricted: the institute must be told (Art. 17(2), 19 and 21), and its partner acknowledges
each request, which compliance sees outstanding until then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.customers import customer_reference
from recordings_service.db import utcnow
from recordings_service.errors import NotFound, Refusal
from recordings_service.models import AuditEvent, BatchItem, Customer, Institute, ResearchBatch
from recordings_service.recordings import get_playable_recording
from recordings_service.research.batches import OUTSTANDING, get_partner_batch
from recordings_service.research.lifecycle import DOWNLOAD_STARTED, SERVING, was_downloaded


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


class FollowUpKind(StrEnum):
    ERASURE = "erasure"
    OBJECTION = "objection"
    RESTRICTION = "restriction"


@dataclass(frozen=True)
class FollowUp:
    """A request the institute must act on (an erasure request or an objection to research by a customer whose
    calls it may hold), and whether the institute has acknowledged it."""

    number: int  # its place in the batch's list, from 1: what the acknowledgement names
    kind: str  # a FollowUpKind
    request_id: str | None
    customer_pseudonyms: list[str]
    flagged_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # the partner account

    @property
    def outstanding(self) -> bool:
        return self.acknowledged_at is None


def flag_erasure(session: Session, *, actor: Actor, customer_id: str, request_id: str) -> list[str]:
    """Flag every outstanding batch the institute downloaded the customer's calls from, now that the customer asks
    for erasure: the institute must be told (Art. 17(2) and 19)."""
    return _flag_held(session, actor=actor, customer_id=customer_id, request_id=request_id, kind=FollowUpKind.ERASURE)


def flag_objection(session: Session, *, actor: Actor, customer_id: str, request_id: str) -> list[str]:
    """Flag every outstanding batch the institute downloaded the customer's calls from, now that the customer
    objects to research: the institute must stop using them (Art. 21 and 19)."""
    return _flag_held(session, actor=actor, customer_id=customer_id, request_id=request_id, kind=FollowUpKind.OBJECTION)


def flag_restriction(session: Session, *, actor: Actor, customer_id: str, request_id: str) -> list[str]:
    """Flag every outstanding batch the institute downloaded the customer's calls from, now that their processing
    is restricted: the institute, a recipient, must be told (Art. 19) and keep them unused."""
    return _flag_held(
        session, actor=actor, customer_id=customer_id, request_id=request_id, kind=FollowUpKind.RESTRICTION
    )


def _flag_held(session: Session, *, actor: Actor, customer_id: str, request_id: str, kind: FollowUpKind) -> list[str]:
    """Flag the outstanding batches whose package holding the customer's calls was downloaded. One not downloaded
    yet is built again without them instead (`build_queue.requeue_outdated`): the institute holds nothing."""
    records = [
        record
        for record in customer_custody(session, customer_id)
        if record.outstanding and was_downloaded(session, record.batch_id)
    ]
    return _flag(session, actor=actor, records=records, customer_id=customer_id, request_id=request_id, kind=kind)


def follow_ups(batch: ResearchBatch) -> list[FollowUp]:
    """The batch's follow-up requests, oldest first (one flagged before they had a kind was an erasure request)."""
    return [
        FollowUp(
            number=number,
            kind=str(flag.get("kind") or FollowUpKind.ERASURE),
            request_id=flag.get("request_id"),
            customer_pseudonyms=list(flag.get("customer_pseudonyms") or []),
            flagged_at=_moment(flag.get("flagged_at")),
            acknowledged_at=_moment(flag.get("acknowledged_at")),
            acknowledged_by=flag.get("acknowledged_by"),
        )
        for number, flag in enumerate(batch.follow_up or [], start=1)
    ]


def acknowledge_follow_up(session: Session, *, actor: Actor, batch_id: str, number: int) -> ResearchBatch:
    """The institute's partner acknowledges follow-up request `number` of its batch; acknowledging it again
    changes nothing (a second click, a retried request)."""
    batch = get_partner_batch(session, actor=actor, batch_id=batch_id, lock=True)
    flags = list(batch.follow_up or [])
    if not 1 <= number <= len(flags):
        raise NotFound(f"research batch {batch.id} has no follow-up request {number}", why="follow_up_not_found")
    if flags[number - 1].get("acknowledged_at"):
        return batch
    flags[number - 1] = {**flags[number - 1], "acknowledged_at": utcnow().isoformat(), "acknowledged_by": actor.name}
    batch.follow_up = flags  # a new list: the JSON column notices only assignment
    session.flush()
    record_event(
        session,
        actor=actor,
        action="research.follow_up_acknowledged",
        object_type="research_batch",
        object_id=batch.id,
        details={"number": number, "kind": str(flags[number - 1].get("kind") or FollowUpKind.ERASURE)},
    )
    return batch


def _flag(
    session: Session,
    *,
    actor: Actor,
    records: list[CustodyRecord],
    customer_id: str,
    request_id: str,
    kind: FollowUpKind,
) -> list[str]:
    # Every batch locked (and read afresh) before the first event is written, in id order: the audit chain's head,
    # which each event locks to the commit, is then always taken after a batch, as a partner's acknowledgement or
    # download takes them. Locked between events, a batch waited for a partner who waited for the chain: a deadlock
    # (PostgreSQL), the loser's request a 500, an objection or erasure request lost with it.
    ids = {record.batch_id for record in records}
    locked = select(ResearchBatch).where(ResearchBatch.id.in_(ids)).order_by(ResearchBatch.id).with_for_update()
    batches = list(session.scalars(locked.execution_options(populate_existing=True)))
    for batch in batches:
        pseudonyms = sorted(
            {item.customer_pseudonym or "" for item in _items_of(session, batch.id, customer_id)} - {""}
        )
        flag = {"kind": kind, "request_id": request_id, "customer_pseudonyms": pseudonyms}
        batch.follow_up = [*batch.follow_up, {**flag, "flagged_at": utcnow().isoformat()}]
        record_event(
            session,
            actor=actor,
            action=f"research.{kind}_follow_up",
            object_type="research_batch",
            object_id=batch.id,
            details={"request_id": request_id},
        )
    return [batch.id for batch in batches]


def objections_to_pass_on(session: Session, batch: ResearchBatch) -> list[str]:
    """The pseudonyms of customers who objected to research after their calls went out in this batch, while the
    institute may still hold them: it must be told to stop using those calls (Art. 21 and 19). An objection made
    before the package was built left the call out; one made since is flagged in the batch's `follow_up` too
    (`flag_objection`), but this list is read from the customers as they are now, so it holds every one."""
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


def objections_not_followed_up(session: Session, batch: ResearchBatch) -> list[str]:
    """`objections_to_pass_on` less the customers an objection follow-up of the batch names already: the batch's
    page lists each objection once (one made before objections were flagged shows only here)."""
    flagged = {
        pseudonym
        for flag in follow_ups(batch)
        if flag.kind == FollowUpKind.OBJECTION
        for pseudonym in flag.customer_pseudonyms
    }
    return [pseudonym for pseudonym in objections_to_pass_on(session, batch) if pseudonym not in flagged]


def _moment(raw: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


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
