"""What an access package lists of the customer's dealings with us besides their calls (Art. 15): the other
data-subject requests they made, with their dates and whether each was answered or withdrawn, and the legal holds
placed on their calls, when placed and released. A hold's reason stays out: it is about establishing or defending a
legal claim, which the controller may withhold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from recordings_service.models import LegalHold, Recording, SubjectRequest


def subject_history(session: Session, *, customer_id: str, request_id: str) -> dict[str, Any]:
    """The customer's requests other than `request_id`, oldest first, and the holds on them or their calls."""
    requests = session.scalars(
        select(SubjectRequest)
        .where(SubjectRequest.customer_id == customer_id, SubjectRequest.id != request_id)
        .order_by(SubjectRequest.received_at, SubjectRequest.id)
    )
    their_calls = select(Recording.id).where(Recording.customer_id == customer_id)
    holds = session.scalars(
        select(LegalHold)
        .where(or_(LegalHold.customer_id == customer_id, LegalHold.recording_id.in_(their_calls)))
        .order_by(LegalHold.placed_at, LegalHold.id)
    )
    return {
        "requests": [
            {
                "kind": request.kind,
                "received_at": request.received_at.isoformat(),
                "deadline": request.deadline.isoformat(),
                "answered_at": request.completed_at.isoformat()
                if request.completed_at and not request.withdrawn
                else None,
                "withdrawn": request.withdrawn,
            }
            for request in requests
        ],
        "legal_holds": [
            {
                "recording_id": hold.recording_id,
                "all_your_calls": hold.customer_id is not None,
                "placed_at": hold.placed_at.isoformat(),
                "released_at": hold.released_at.isoformat() if hold.released_at else None,
            }
            for hold in holds
        ],
    }
