"""Fulfilling a subject request: one entry for the API and the UI, which calls the right right's use case."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import Invalid
from recordings_service.models import SubjectRequest
from recordings_service.models.privacy import SubjectRequestKind
from recordings_service.privacy import (
    erasure,
    ledger,
    package_queue,
    rectification,
    restriction,
    restriction_ledger,
    subjects,
)
from recordings_service.privacy.rectification import SegmentFix
from recordings_service.storage.object_store import ObjectStore

# Which answer fields each kind takes; any other field given is refused, so a wrong form is not half-applied.
FIELDS: dict[SubjectRequestKind, frozenset[str]] = {
    SubjectRequestKind.ACCESS: frozenset(),
    SubjectRequestKind.OBJECTION: frozenset({"research", "marketing"}),
    SubjectRequestKind.RECTIFICATION: frozenset({"recording_id", "metadata", "transcript"}),
    SubjectRequestKind.RESTRICTION: frozenset(),
    SubjectRequestKind.ERASURE: frozenset(),
}


@dataclass(frozen=True)
class Answer:
    """What the officer decided: objection flags, or the corrections of one call."""

    research: bool | None = None
    marketing: bool | None = None
    recording_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    transcript: Sequence[SegmentFix] | None = None

    def given(self) -> set[str]:
        names = ("research", "marketing", "recording_id", "metadata", "transcript")
        return {name for name in names if getattr(self, name) is not None}


@dataclass(frozen=True)
class Fulfilment:
    request: SubjectRequest
    erased: erasure.Erasure | None = None
    queued: bool = False  # access: the package is being built by the jobs process


def fulfil_request(
    session: Session,
    store: ObjectStore,
    *,
    actor: Actor,
    request_id: str,
    answer: Answer,
    zone: tzinfo,
    customer_number_pattern: str | None = None,
    now: datetime | None = None,
) -> Fulfilment:
    """Carry out the request by its kind; for erasure, call `after_commit` once the caller has committed. Retention
    periods are counted in `zone`, the organisation's calendar."""
    now = now or utcnow()
    request = subjects.get_request(session, request_id)
    kind = SubjectRequestKind(request.kind)
    stray = sorted(answer.given() - FIELDS[kind])
    if stray:
        raise Invalid(stray[0], f"not part of answering a request for {kind}", code="unknown_field")
    if kind is SubjectRequestKind.ACCESS:
        return Fulfilment(package_queue.request_package(session, actor=actor, request_id=request_id), queued=True)
    if kind is SubjectRequestKind.OBJECTION:
        done = subjects.record_objection(
            session, actor=actor, request_id=request_id, research=answer.research, marketing=answer.marketing, now=now
        )
        return Fulfilment(done)
    if kind is SubjectRequestKind.RESTRICTION:
        return Fulfilment(restriction.restrict_processing(session, actor=actor, request_id=request_id, now=now))
    if kind is SubjectRequestKind.RECTIFICATION:
        done = rectification.rectify(
            session,
            actor=actor,
            request_id=request_id,
            recording_id=answer.recording_id,
            metadata=answer.metadata,
            transcript=answer.transcript,
            zone=zone,
            customer_number_pattern=customer_number_pattern,
            now=now,
        )
        return Fulfilment(done)
    erased = erasure.erase_customer(session, store, actor=actor, request_id=request_id, zone=zone, now=now)
    return Fulfilment(erased.request, erased=erased)


def after_commit(session: Session, store: ObjectStore, fulfilment: Fulfilment) -> int:
    """Once the fulfilment committed: delete the objects an erasure left (every version) and mark them purged, or
    write an objection or a restriction to the store's ledger (`ledger`, `restriction_ledger`); the caller commits
    again. Returns the objects deleted."""
    if fulfilment.request.kind == SubjectRequestKind.RESTRICTION:
        restriction_ledger.record_restriction(store, fulfilment.request)
        return 0
    if fulfilment.request.kind == SubjectRequestKind.OBJECTION:
        ledger.record_objection(store, fulfilment.request.customer, at=utcnow())
        return 0
    if fulfilment.erased is None:
        return 0
    return erasure.purge_erasure(session, store, fulfilment.erased, now=utcnow())
