"""A subject request registered by mistake (for the wrong customer, or the same request twice), closed with nothing
carried out. Before, the only way to close a request was to carry it out: one registered for the wrong customer
stayed open and overdue for good, or, for an erasure, was closed by erasing that customer's calls.

The request is closed with its reason kept in its outcome and the withdrawal audited; its deadline no longer
counts, and an access package still being built is withdrawn (its object, if one was uploaded, is purged as any
withdrawn package's is). The institutes told of it (an erasure request's follow-up) are told it was withdrawn, with
nothing to do for it: before, the follow-up stayed, and an institute was asked to destroy the calls of a customer
who had never asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import SubjectRequest
from recordings_service.models.privacy import PackageState
from recordings_service.privacy.package_queue import withdraw_package
from recordings_service.privacy.subjects import checked_reason, complete, get_request, refused
from recordings_service.research.follow_ups import FollowUpEnd, end_follow_ups

UNFINISHED_PACKAGE = (PackageState.QUEUED, PackageState.BUILDING)


def withdraw_request(
    session: Session, *, actor: Actor, request_id: str, reason: str, now: datetime | None = None
) -> SubjectRequest:
    """Close an open request with nothing carried out, for `reason` (why it was registered by mistake)."""
    text = checked_reason(reason, field="reason")
    request = get_request(session, request_id, lock=True)
    if not request.open:
        raise Conflict(
            f"subject request {request_id} is closed already",
            why="request_closed",
            refusal=refused(actor, request, "withdraw", "request_closed"),
        )
    if request.package_state in UNFINISHED_PACKAGE:
        withdraw_package(request)
    complete(request, now=now or utcnow(), outcome={"withdrawn": True, "reason": text})
    session.flush()
    # Ended (its batches locked) before this request's event is written: see `follow_ups._locked`.
    end_follow_ups(
        session, actor=actor, customer_id=request.customer_id, request_id=request.id, why=FollowUpEnd.WITHDRAWN
    )
    record_event(
        session,
        actor=actor,
        action="subject_request.withdrawn",
        object_type="subject_request",
        object_id=request.id,
        details={"kind": request.kind, "customer_id": request.customer_id},
    )
    return request
