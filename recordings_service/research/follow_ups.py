"""Follow-ups: the requests an institute must act on for calls it downloaded, when the customer asks for erasure,
objects to research or has processing restricted, or a call may no longer go out for another reason: the institute
must be told (Art. 17(2), 19 and 21), and its partner acknowledges each request, which compliance sees outstanding
until then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import NotFound
from recordings_service.models import BatchItem, Customer, ResearchBatch
from recordings_service.research.batches import OUTSTANDING, get_partner_batch
from recordings_service.research.custody import CustodyRecord, customer_custody
from recordings_service.research.lifecycle import ever_downloaded, was_downloaded
from recordings_service.research.selection import ExcludedItem, excluded_since_built


class FollowUpKind(StrEnum):
    ERASURE = "erasure"
    OBJECTION = "objection"
    RESTRICTION = "restriction"
    # Calls of the package that may no longer go out for another reason (a rectification, a retention change, card
    # data found, the call deleted): named by call, with why for compliance, not for the institute.
    WITHDRAWN = "withdrawn"


class FollowUpEnd(StrEnum):
    """Why a follow-up no longer asks anything of the institute."""

    WITHDRAWN = "withdrawn"  # its request was registered by mistake and withdrawn: nothing was ever to be done
    LIFTED = "lifted"  # its restriction was lifted: the institute may use the calls again


@dataclass(frozen=True)
class FollowUp:
    """A request the institute must act on (an erasure request or an objection to research by a customer whose
    calls it may hold), whether the institute has acknowledged it, and whether it has ended."""

    number: int  # its place in the batch's list, from 1: what the acknowledgement names
    kind: str  # a FollowUpKind
    request_id: str | None
    customer_pseudonyms: list[str]
    call_pseudonyms: list[str]  # a withdrawn follow-up's calls; empty for the other kinds
    reasons: list[str]  # why each of `call_pseudonyms` was withdrawn (an `Exclusion`, or `NO_LONGER_STORED`)
    flagged_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # the partner account
    ended_at: datetime | None
    ended: str | None  # a FollowUpEnd

    @property
    def outstanding(self) -> bool:
        """The institute has yet to acknowledge it, and it still asks something of the institute."""
        return self.acknowledged_at is None and self.ended_at is None


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
            call_pseudonyms=list(flag.get("call_pseudonyms") or []),
            reasons=list(flag.get("reasons") or []),
            flagged_at=_moment(flag.get("flagged_at")),
            acknowledged_at=_moment(flag.get("acknowledged_at")),
            acknowledged_by=flag.get("acknowledged_by"),
            ended_at=_moment(flag.get("ended_at")),
            ended=flag.get("ended"),
        )
        for number, flag in enumerate(batch.follow_up or [], start=1)
    ]


def outstanding_count(batch: ResearchBatch) -> int:
    """How many of the batch's follow-ups the institute has yet to act on (`FollowUp.outstanding`)."""
    return sum(1 for flag in follow_ups(batch) if flag.outstanding)


def acknowledge_follow_up(session: Session, *, actor: Actor, batch_id: str, number: int) -> ResearchBatch:
    """The institute's partner acknowledges follow-up request `number` of its batch; acknowledging it again, or one
    that has ended, changes nothing (a second click, a retried request, a page shown before it ended)."""
    batch = get_partner_batch(session, actor=actor, batch_id=batch_id, lock=True)
    flags = list(batch.follow_up or [])
    if not 1 <= number <= len(flags):
        raise NotFound(f"research batch {batch.id} has no follow-up request {number}", why="follow_up_not_found")
    if flags[number - 1].get("acknowledged_at") or flags[number - 1].get("ended_at"):
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
    batches = _still_outstanding(_locked(session, {record.batch_id for record in records}))
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


def end_follow_ups(session: Session, *, actor: Actor, customer_id: str, request_id: str, why: FollowUpEnd) -> list[str]:
    """End every follow-up naming the request, on every batch of the customer's calls: the request was withdrawn
    (registered by mistake) or the restriction lifted, and the institute is told so on its page; compliance no
    longer sees them outstanding. Each batch's are audited (`research.follow_up_ended`). Returns the batches."""
    ended = []
    batches = _locked(session, {record.batch_id for record in customer_custody(session, customer_id)})
    for batch in batches:
        flags = list(batch.follow_up or [])
        naming = [
            n for n, flag in enumerate(flags) if flag.get("request_id") == request_id and not flag.get("ended_at")
        ]
        if not naming:
            continue
        for index in naming:
            flags[index] = {**flags[index], "ended_at": utcnow().isoformat(), "ended": why.value}
        batch.follow_up = flags  # a new list: the JSON column notices only assignment
        record_event(
            session,
            actor=actor,
            action="research.follow_up_ended",
            object_type="research_batch",
            object_id=batch.id,
            details={"request_id": request_id, "why": why.value},
        )
        ended.append(batch.id)
    session.flush()
    return ended


def flag_withdrawn_calls(session: Session, *, actor: Actor) -> list[str]:
    """Flag every outstanding batch that was downloaded with the calls of its package that would not go out now
    (`selection.excluded_since_built`) and that no follow-up of the batch names yet: one `withdrawn` follow-up per
    batch per run, audited `research.withdrawn_follow_up`. Erasure requests, objections and restrictions are flagged
    by customer when they are made; this pass, run by the jobs process, catches every other reason (a rectification,
    a retention change, card data found, the call deleted). Returns the batches flagged.

    Before, such a package was only refused (`outdated_downloaded`): the institute was not told which call to return
    or destroy, and compliance saw nothing outstanding."""
    query = select(ResearchBatch).where(ResearchBatch.state.in_(OUTSTANDING), ever_downloaded())
    due = {batch.id for batch in session.scalars(query) if _calls_to_flag(session, batch)}
    flagged = []
    for batch in _still_outstanding(_locked(session, due)):
        calls = _calls_to_flag(session, batch)  # again, locked: another jobs process may have flagged them
        if not calls:
            continue
        flag = {
            "kind": FollowUpKind.WITHDRAWN,
            "call_pseudonyms": [excluded.item.call_pseudonym for excluded in calls],
            "reasons": [excluded.reason for excluded in calls],
            "flagged_at": utcnow().isoformat(),
        }
        batch.follow_up = [*batch.follow_up, flag]
        record_event(
            session,
            actor=actor,
            action="research.withdrawn_follow_up",
            object_type="research_batch",
            object_id=batch.id,
            details={"calls": len(calls)},
        )
        flagged.append(batch.id)
    session.flush()
    return flagged


def _calls_to_flag(session: Session, batch: ResearchBatch) -> list[ExcludedItem]:
    """The package's calls that would not go out now and that no follow-up in force names: not by their customer
    (an erasure request, objection or restriction), nor by the call (an earlier withdrawn follow-up)."""
    flags = [flag for flag in follow_ups(batch) if flag.ended_at is None]
    customers = {pseudonym for flag in flags for pseudonym in flag.customer_pseudonyms}
    calls = {pseudonym for flag in flags for pseudonym in flag.call_pseudonyms}
    return [
        excluded
        for excluded in excluded_since_built(session, batch)
        if excluded.item.customer_pseudonym not in customers and excluded.item.call_pseudonym not in calls
    ]


def _locked(session: Session, batch_ids: set[str]) -> list[ResearchBatch]:
    # Every batch locked (and read afresh) before the first event is written, in id order: the audit chain's head,
    # which each event locks to the commit, is then always taken after a batch, as a partner's acknowledgement or
    # download takes them. Locked between events, a batch waited for a partner who waited for the chain: a deadlock
    # (PostgreSQL), the loser's request a 500, an objection or erasure request lost with it.
    locked = select(ResearchBatch).where(ResearchBatch.id.in_(batch_ids)).order_by(ResearchBatch.id).with_for_update()
    return list(session.scalars(locked.execution_options(populate_existing=True)))


def _still_outstanding(batches: list[ResearchBatch]) -> list[ResearchBatch]:
    """The locked batches still outstanding: one closed since it was chosen (a confirmation accepted meanwhile) holds
    nothing of the institute's to act on, and its pseudonyms are forgotten (a flag then named none, or None)."""
    return [batch for batch in batches if batch.state in OUTSTANDING]


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
