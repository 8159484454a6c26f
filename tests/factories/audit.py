"""Reading back what the audit trail recorded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent


def events(session: Session, action: str, object_id: str | None = None) -> list[AuditEvent]:
    """The `action` events (about `object_id`, when given), oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(session.scalars(query.order_by(AuditEvent.seq)))
