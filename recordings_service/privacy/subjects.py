"""Data-subject requests: register one with its deadline, extend it once, and answer an objection.

A request is due one calendar month after it was received (GDPR Art. 12(3)) and may be extended once by
up to two further months, with a reason, while it is not yet overdue. Access, rectification and erasure
have modules of their own (`access_package`, `rectification`, `erasure`), as restriction has (`restriction`);
what they share is here.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.customers import lock_customer, register_customer
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, NotFound, Refusal
from recordings_service.models import AuditEvent, Customer, Recording, SubjectRequest
from recordings_service.models.privacy import PeriodUnit, SubjectRequestKind
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.retention import Period
from recordings_service.research import follow_ups
from recordings_service.written_text import checked_lines

ANSWER_WITHIN = Period(1, PeriodUnit.MONTHS)
MAX_EXTENSION_MONTHS = 2
# Art. 15(3): the first copy is free; a further one within this many months may be charged for.
FREE_COPY_MONTHS = 12
MAX_REASON = 2000
MAX_PAGE = 200
# A clock a little ahead of ours must not make a request received "now" look like one from the future.
CLOCK_SKEW = timedelta(minutes=5)
# The day the GDPR applies from, in the organisation's calendar: an earlier date is a typing error, and would head the
# overdue list for good.
GDPR_APPLIES_FROM = date(2018, 5, 25)


def deadline_column() -> ColumnElement[datetime]:
    """A request's deadline in SQL: the extended one, else the first."""
    return func.coalesce(SubjectRequest.extended_until, SubjectRequest.due_at)


def due_date(received_at: datetime) -> datetime:
    """The end of the day one calendar month after receipt, in `received_at`'s zone; from 31 January that is the
    last day of February."""
    return end_of_day(ANSWER_WITHIN.end(received_at))


def end_of_day(moment: datetime) -> datetime:
    """The last instant of `moment`'s day in its own zone. A period of months ends when the day of the same date
    ends (Regulation 1182/71, Art. 3(2)(c)): a request received on 1 March may be answered all through 1 April, and
    ended at its start, the deadline made the request overdue a day early."""
    return datetime.combine(moment.date(), time.max, tzinfo=moment.tzinfo)


def deadline_clause(now: datetime) -> ColumnElement[bool]:
    """Open requests whose (extended) deadline has passed."""
    return and_(SubjectRequest.completed_at.is_(None), deadline_column() < now)


def days_left(request: SubjectRequest, *, now: datetime, zone: tzinfo) -> int:
    """Whole days until the deadline, negative once it has passed (the countdown the UI shows); an answered request's
    countdown stopped when it was answered (how early, or how late, the answer came).

    Counted in calendar days of `zone` (the organisation's, where a typed request's deadline is the start of a day):
    counted in UTC, across the spring clock change (a day of 23 hours) the countdown was a day short for an hour of
    each day, and across the autumn one a day long."""
    deadline = request.deadline.astimezone(zone).replace(tzinfo=None)
    moment = (request.completed_at or now).astimezone(zone).replace(tzinfo=None)
    return (deadline - moment) // timedelta(days=1)


def create_request(
    session: Session,
    *,
    actor: Actor,
    customer_ref: str,
    kind: str,
    received_at: datetime,
    zone: tzinfo | None = None,
    now: datetime | None = None,
) -> SubjectRequest:
    """Register a request of the customer; an access request within 12 months of an earlier copy given is chargeable.

    Its days are those of `zone` (the organisation's, as an extension's months are), else of the offset
    `received_at` carries: counted in UTC, a request received on 31 January in Helsinki (30 January 22:30 in
    UTC) was due on 1 March there, not on 28 February, and one received before the clocks went forward was due an
    hour late; one received on 1 March 2025 there looked 12 months back to 28 February 2024 for a copy given, and
    one of 25 May 2018 there (the GDPR's first day) was refused as from before it."""
    now = now or utcnow()
    try:
        request_kind = SubjectRequestKind(kind)
    except ValueError:
        raise Invalid("kind", f"one of {', '.join(SubjectRequestKind)}", code="invalid_choice") from None
    if received_at.tzinfo is None:
        raise Invalid("received_at", "give a time zone", code="timezone_required")
    if received_at > now + CLOCK_SKEW:
        raise Invalid("received_at", "a request cannot be received in the future", code="in_future")
    local = received_at if zone is None else received_at.astimezone(zone)
    if local.date() < GDPR_APPLIES_FROM:
        raise Invalid("received_at", "GDPR requests date from 25 May 2018 on", code="out_of_range")
    # A reference the officer typed: one in another letter case than a known customer's is refused (not a new person).
    customer = session.get_one(Customer, register_customer(session, customer_ref, refuse_case_variants=True))
    _refuse_registered_already(session, actor=actor, customer=customer, kind=request_kind, received_at=received_at)
    request = SubjectRequest(
        customer_id=customer.id,
        kind=request_kind.value,
        # Kept in UTC, as every time we store.
        received_at=received_at.astimezone(UTC),
        due_at=due_date(local).astimezone(UTC),
        chargeable=request_kind is SubjectRequestKind.ACCESS and _copy_given_recently(session, customer, local),
        outcome={},
        created_by=actor.id,
    )
    session.add(request)
    session.flush()
    # The institutes' batches are flagged (locked) before this request's event is written: see `follow_ups._locked`.
    if request_kind is SubjectRequestKind.ERASURE:
        follow_ups.flag_erasure(session, actor=actor, customer_id=customer.id, request_id=request.id)
    record_event(
        session,
        actor=actor,
        action="subject_request.created",
        object_type="subject_request",
        object_id=request.id,
        details={"kind": request.kind, "customer_id": customer.id, "chargeable": request.chargeable},
    )
    return request


def _refuse_registered_already(
    session: Session, *, actor: Actor, customer: Customer, kind: SubjectRequestKind, received_at: datetime
) -> None:
    """409 where the customer's open request of `kind` received at that moment is registered already: a client
    retrying a request whose answer it lost, or a form sent twice, registered it again, with a second deadline to
    track and, for an erasure, a second erasure to carry out. Two registrations at once are one after the other under
    the customer's lock, so the second finds the first."""
    lock_customer(session, customer.id)
    registered = session.scalars(
        select(SubjectRequest)
        .where(
            SubjectRequest.customer_id == customer.id,
            SubjectRequest.kind == kind.value,
            SubjectRequest.received_at == received_at.astimezone(UTC),
            SubjectRequest.completed_at.is_(None),
        )
        .order_by(SubjectRequest.id)
    ).first()
    if registered is not None:
        raise Conflict(
            f"this request is registered already, as subject request {registered.id}",
            why="request_registered",
            values={"request_id": registered.id},
            refusal=refused(actor, registered, "create", "request_registered"),
        )


def get_request(session: Session, request_id: str, *, lock: bool = False) -> SubjectRequest:
    """The request, locked against a concurrent fulfilment when `lock`; 404 when there is none."""
    query = select(SubjectRequest).where(SubjectRequest.id == request_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    request = session.scalars(query).first()
    if request is None:
        raise NotFound(f"subject request {request_id} not found", why="request_not_found")
    return request


def overdue_requests(session: Session, *, now: datetime, limit: int | None = None) -> list[SubjectRequest]:
    """Open requests past their (extended) deadline, the longest overdue first (the first `limit`, when given): the
    dashboard's top rows; `request_lists.count_overdue_requests` counts them all."""
    query = select(SubjectRequest).where(deadline_clause(now)).order_by(deadline_column(), SubjectRequest.id)
    return list(session.scalars(query.limit(limit)))


def extend_request(
    session: Session,
    *,
    actor: Actor,
    request_id: str,
    months: int,
    reason: str,
    zone: tzinfo = UTC,
    now: datetime | None = None,
) -> SubjectRequest:
    """Extend the deadline by one or two further months, once, before it has passed (Art. 12(3)).

    The months are counted in `zone` (the organisation's, in which a request's day was typed): counted in UTC, a
    request received on 1 March in Helsinki (28 February in UTC) would be extended to 29 April, not 1 May."""
    now = now or utcnow()
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise Invalid("months", f"1 or {MAX_EXTENSION_MONTHS}", code="out_of_range")
    text = checked_reason(reason, field="reason")
    request = get_request(session, request_id, lock=True)
    if not request.open:
        raise Conflict(
            f"subject request {request_id} has been answered already",
            why="request_answered",
            refusal=refused(actor, request, "extend", "request_answered"),
        )
    if request.extended_until is not None:
        raise Conflict(
            f"subject request {request_id} has been extended once already",
            why="request_extended",
            refusal=refused(actor, request, "extend", "request_extended"),
        )
    if request.due_at < now:
        raise Conflict(
            f"subject request {request_id} is overdue; an extension is decided within the first month",
            why="request_overdue",
            refusal=refused(actor, request, "extend", "request_overdue"),
        )
    # Counted from receipt, so the day of the month stays that of the request (31 Jan + 3 months: 30 Apr).
    received = request.received_at.astimezone(zone)
    request.extended_until = end_of_day(Period(1 + months, PeriodUnit.MONTHS).end(received)).astimezone(UTC)
    request.extension_reason = text
    session.flush()
    record_event(
        session,
        actor=actor,
        action="subject_request.extended",
        object_type="subject_request",
        object_id=request.id,
        details={"months": months, "extended_until": request.extended_until.isoformat()},
    )
    return request


def open_request_of(session: Session, *, actor: Actor, request_id: str, kind: SubjectRequestKind) -> SubjectRequest:
    """The request, locked, if it is of `kind` and still open; 409 otherwise, audited."""
    request = get_request(session, request_id, lock=True)
    if request.kind != kind:
        raise Conflict(
            f"subject request {request_id} is a request for {request.kind}, not {kind}",
            why="other_kind",
            refusal=refused(actor, request, "fulfil", "other_kind"),
        )
    if not request.open:
        raise Conflict(
            f"subject request {request_id} has been answered already",
            why="request_answered",
            refusal=refused(actor, request, "fulfil", "request_answered"),
        )
    return request


def refused(actor: Actor, request: SubjectRequest, decision: str, rule: str) -> Refusal:
    """The audit event of a refused decision on a request (`subject_request.<decision>_refused`, its `rule` the
    refusal's `why`): a request answered twice, lifted, extended or withdrawn when it may not be is on its trail, as
    every refusal is; these were answered 409 and left no trace."""
    return Refusal(actor, f"subject_request.{decision}_refused", "subject_request", request.id, {"rule": rule})


def complete(request: SubjectRequest, *, now: datetime, outcome: Mapping[str, Any]) -> None:
    request.completed_at = now
    request.outcome = dict(outcome)


def record_objection(
    session: Session,
    *,
    actor: Actor,
    request_id: str,
    research: bool | None,
    marketing: bool | None,
    now: datetime | None = None,
) -> SubjectRequest:
    """Set what the customer objects to (Art. 21); selections for research and training read it at once."""
    if research is None and marketing is None:
        raise Invalid("research", "say whether the customer objects to research, marketing, or both", code="missing")
    request = open_request_of(session, actor=actor, request_id=request_id, kind=SubjectRequestKind.OBJECTION)
    # Locked and read as committed now: another objection of the customer's answered at the same moment was read as
    # before it (PostgreSQL), and this answer's outcome and event said the customer did not object to what it had.
    lock_customer(session, request.customer_id)
    customer = session.get_one(Customer, request.customer_id, populate_existing=True)
    previous = {"research": customer.objects_to_research, "marketing": customer.objects_to_marketing}
    if research is not None:
        customer.objects_to_research = research
    if marketing is not None:
        customer.objects_to_marketing = marketing
    current = {"research": customer.objects_to_research, "marketing": customer.objects_to_marketing}
    complete(request, now=now or utcnow(), outcome={"objects_to": current, "previously": previous})
    session.flush()
    if current["research"] and not previous["research"]:
        # An institute holding the customer's calls already must be told to stop using them (flagged before this
        # request's event is written: see `follow_ups._locked`).
        follow_ups.flag_objection(session, actor=actor, customer_id=customer.id, request_id=request.id)
    record_event(
        session,
        actor=actor,
        action="customer.objection_recorded",
        object_type="customer",
        object_id=customer.id,
        details={"request_id": request.id, **{f"objects_to_{name}": value for name, value in current.items()}},
    )
    return request


def customer_recording_ids(session: Session, customer_id: str) -> list[str]:
    """The customer's live recordings, oldest call first."""
    return list(
        session.scalars(
            select(Recording.id)
            .where(Recording.customer_id == customer_id, Recording.status != RecordingStatus.DELETED)
            .order_by(Recording.started_at, Recording.id)
        )
    )


def checked_reason(value: str, *, field: str) -> str:
    return checked_lines(field, value, what="a reason", limit=MAX_REASON, missing="state the reason")


def _copy_given_recently(session: Session, customer: Customer, received_at: datetime) -> bool:
    """An earlier access request of the customer received within the 12 months before this one (counted in
    `received_at`'s zone, the organisation's) whose copy was given: its package downloaded
    (`subject_access.downloaded`). One never built, never downloaded before it expired, or withdrawn by an erasure gave
    the customer nothing."""
    given = exists().where(
        AuditEvent.object_id == SubjectRequest.id,
        AuditEvent.object_type == "subject_request",
        AuditEvent.action == "subject_access.downloaded",
    )
    return bool(
        session.scalar(
            select(
                exists().where(
                    SubjectRequest.customer_id == customer.id,
                    SubjectRequest.kind == SubjectRequestKind.ACCESS,
                    SubjectRequest.received_at > months_before(received_at, FREE_COPY_MONTHS),
                    SubjectRequest.received_at <= received_at,
                    given,
                )
            )
        )
    )


def months_before(moment: datetime, months: int) -> datetime:
    """`moment` less calendar months; from 29 February a year back is 28 February."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1]))
