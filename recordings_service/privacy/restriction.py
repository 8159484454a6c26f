"""Restriction of processing (GDPR Art. 18): a customer's recordings kept from everyone but compliance while a
restriction of theirs is in force, the institutes holding their calls told (Art. 19), and told again once none is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Exists, case, exists, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.customers import lock_customer
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import Recording, SubjectRequest
from recordings_service.models.privacy import SubjectRequestKind, not_withdrawn
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.subjects import complete, get_request, open_request_of, refused
from recordings_service.research import follow_ups


def restrict_processing(
    session: Session, *, actor: Actor, request_id: str, now: datetime | None = None
) -> SubjectRequest:
    """Restrict every recording of the customer (Art. 18): no playback or export except by compliance."""
    request = open_request_of(session, actor=actor, request_id=request_id, kind=SubjectRequestKind.RESTRICTION)
    lock_customer(session, request.customer_id)  # a call of theirs being ingested meanwhile is restricted too
    restricted = _set_restricted(session, customer_id=request.customer_id, value=True)
    complete(request, now=now or utcnow(), outcome={"recordings_restricted": len(restricted)})
    session.flush()
    # An institute holding the customer's calls already is a recipient to tell (Art. 19); flagged before this
    # request's event is written: see `follow_ups._locked`.
    follow_ups.flag_restriction(session, actor=actor, customer_id=request.customer_id, request_id=request.id)
    record_event(
        session,
        actor=actor,
        action="subject_request.restricted",
        object_type="subject_request",
        object_id=request.id,
        details={
            "customer_id": request.customer_id,
            "recordings": len(restricted),
            "recording_ids": ",".join(restricted),  # each call's trail lists it (`audit.RECORDINGS_NAMED_IN`)
        },
    )
    return request


def lift_restriction(session: Session, *, actor: Actor, request_id: str, now: datetime | None = None) -> SubjectRequest:
    """End a restriction; the recordings stay restricted while another restriction of the customer is in force."""
    request = get_request(session, request_id, lock=True)
    in_force = request.completed_at is not None and request.lifted_at is None and not request.withdrawn
    if request.kind != SubjectRequestKind.RESTRICTION or not in_force:
        raise Conflict(
            f"subject request {request_id} is not a restriction in force",
            why="not_restricting",
            refusal=refused(actor, request, "lift", "not_restricting"),
        )
    lock_customer(session, request.customer_id)  # a call of theirs being ingested meanwhile is released too
    request.lifted_at = now or utcnow()
    session.flush()
    lifted: list[str] = []
    if not session.scalar(select(restriction_in_force(request.customer_id))):
        lifted = _set_restricted(session, customer_id=request.customer_id, value=False)
        # The institutes may use the calls again only now that no restriction of the customer is in force: the
        # follow-ups of every lifted restriction end (one lifted while another was in force kept its own, which
        # told the institute to keep the calls unused). Ended (their batches locked) before this request's event is
        # written: see `follow_ups._locked`.
        for lifted_id in _lifted_restrictions(session, request.customer_id):
            follow_ups.end_follow_ups(
                session,
                actor=actor,
                customer_id=request.customer_id,
                request_id=lifted_id,
                why=follow_ups.FollowUpEnd.LIFTED,
            )
    request.outcome = {**request.outcome, "recordings_released": len(lifted)}
    record_event(
        session,
        actor=actor,
        action="subject_request.lifted",
        object_type="subject_request",
        object_id=request.id,
        details={"customer_id": request.customer_id, "recordings": len(lifted), "recording_ids": ",".join(lifted)},
    )
    return request


def _lifted_restrictions(session: Session, customer_id: str) -> list[str]:
    query = select(SubjectRequest.id).where(
        SubjectRequest.customer_id == customer_id,
        SubjectRequest.kind == SubjectRequestKind.RESTRICTION,
        SubjectRequest.lifted_at.is_not(None),
    )
    return list(session.scalars(query.order_by(SubjectRequest.id)))


def restriction_in_force(customer_id: str) -> Exists:
    """Whether a restriction of the customer is in force: a call of theirs ingested now is restricted at once."""
    return exists().where(*_in_force(customer_id))


def restrictions_in_force(session: Session, customer_id: str) -> list[str]:
    """The restrictions of the customer in force (their requests' ids, oldest first)."""
    return list(session.scalars(select(SubjectRequest.id).where(*_in_force(customer_id)).order_by(SubjectRequest.id)))


def _in_force(customer_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        SubjectRequest.customer_id == customer_id,
        SubjectRequest.kind == SubjectRequestKind.RESTRICTION,
        SubjectRequest.completed_at.is_not(None),
        SubjectRequest.lifted_at.is_(None),
        not_withdrawn(),
    )


def _set_restricted(session: Session, *, customer_id: str, value: bool) -> list[str]:
    """Set the flag of the customer's live recordings; their ids, in order (the customer is locked: no call of
    theirs arrives meanwhile)."""
    live = (Recording.customer_id == customer_id, Recording.status != RecordingStatus.DELETED)
    ids = list(session.scalars(select(Recording.id).where(*live).order_by(Recording.id)))
    # A call whose flag changes is stamped for the sync jobs' copies (`withheld_feed`), at the moment this database
    # changes it (a replayed restriction's `now` is the ledger's, long before a copy's next window).
    changing = case((Recording.restricted.is_not(value), utcnow()), else_=Recording.withheld_changed_at)
    session.execute(
        update(Recording)
        .where(*live)
        .values(restricted=value, withheld_changed_at=changing)
        .execution_options(synchronize_session="fetch")
    )
    return ids
