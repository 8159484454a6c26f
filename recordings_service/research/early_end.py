"""Ending a research batch's access window early: an agreement terminated, a suspected breach at the institute, a
study called off. One compliance user may do it (it takes access away, it gives none): the window ends now, the
partner's portal refuses the package at once, and the lifecycle follows as at any window's end (a package nothing was
downloaded of closes the batch; one downloaded leaves the institute owing its confirmation of return or destruction;
the package's objects are deleted)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.errors import Conflict, Refusal
from recordings_service.models import ResearchBatch
from recordings_service.research.batches import get_batch
from recordings_service.research.build_queue import LIVE_BUILD
from recordings_service.research.lifecycle import close_undelivered, expire_due
from recordings_service.research.text import MAX_TEXT, check_text


def end_access(session: Session, *, actor: Actor, batch_id: str, reason: str, now: datetime) -> ResearchBatch:
    """End the batch's access window at `now`, for `reason` (kept with the batch; the audit event names the planned
    end). A batch not approved, or whose window has ended, is refused (audited)."""
    check_text("reason", reason, what="a reason")
    batch = get_batch(session, batch_id, lock=True)
    # The window first, for a batch whose window ran (approved once: now expired, overdue or closed by its end): the
    # state alone said `not_approved` of an expired batch, where the window being over is the reason.
    if batch.approved_at is not None and batch.access_end <= now:
        raise Conflict(
            f"the access window ended on {batch.access_end.isoformat(timespec='minutes')} already",
            why="window_over",
            refusal=_refused(actor, batch, "window_over"),
        )
    if batch.state not in LIVE_BUILD:
        raise Conflict(
            f"research batch {batch.id} is {batch.state}: only an approved batch's access can be ended",
            why="not_approved",
            refusal=_refused(actor, batch, "not_approved"),
        )
    planned = batch.access_end
    batch.access_start = min(batch.access_start, now)  # a window not begun yet ends before it would have
    batch.access_end = now
    batch.access_ended_by = actor.id
    batch.access_ended_reason = reason.strip()[:MAX_TEXT]
    session.flush()
    details = {"planned_access_end": planned.isoformat()}
    record_event(
        session,
        actor=actor,
        action="research.access_ended",
        object_type="research_batch",
        object_id=batch.id,
        details=details,
    )
    # At once, as the jobs process would within a minute: the page then shows where the batch stands. This batch
    # only: its event above locks the audit chain's head to the commit, and every other batch whose window had ended
    # was locked after it, while a partner holding one of them (the end of its download, a confirmation) waited for
    # that head: a deadlock on PostgreSQL. The others are the expiry job's, which commits between its steps.
    close_undelivered(session, now=now, batch_id=batch.id)
    expire_due(session, now=now, batch_id=batch.id)
    return batch


def _refused(actor: Actor, batch: ResearchBatch, rule: str) -> Refusal:
    return Refusal(actor, "research.end_access_refused", "research_batch", batch.id, {"rule": rule})
