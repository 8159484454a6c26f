"""Research batches: creation with its selection, four-eyes approval or rejection, and reading them.

The creator selects and the batch is a draft; a second compliance user approves it (never the creator)
once the institute has a transfer safeguard where one is needed. Approval queues the package build
(`research/build_queue.py`). A partner sees only its own institute's batches: another one does not exist
for them, and asking for it is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import id_cursor, utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.models import BatchItem, ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research import pseudonyms
from recordings_service.research.institutes import get_institute, transfer_gap
from recordings_service.research.selection import BatchCriteria, select_calls, study_ends_at
from recordings_service.research.text import MAX_TEXT, check_line, check_text
from recordings_service.resubmission import RESENT_WITHIN, Made
from recordings_service.storage.encryption import Envelope

MAX_PAGE = 200
# The tag of the research batches' cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "research_batches"
AUDIO_CHOICES = ("redacted", "original")
# What a partner may get about each call besides its audio and redacted transcript; pseudonyms stand in
# for the call, customer and agent.
METADATA_FIELDS = ("call", "customer", "agent", "started_at", "duration_s", "direction", "queue", "language")
DEFAULT_METADATA = METADATA_FIELDS
# A study that ends further ahead than this is a typing error, not a plan (and past year 9999 dates overflow).
MAX_STUDY_DAYS = 10 * 366
# The study's name as a batch keeps it (the column's length): longer would fail on PostgreSQL, not be refused.
MAX_STUDY = 200
# States in which the institute may hold copies, so custody is still open.
OUTSTANDING = frozenset(
    {BatchState.APPROVED, BatchState.BUILDING, BatchState.READY, BatchState.EXPIRED, BatchState.OVERDUE}
)


@dataclass(frozen=True)
class BatchRequest:
    study: str
    purpose: str
    institute_id: str
    criteria: BatchCriteria
    study_end: date
    access_start: datetime
    access_end: datetime
    audio: str = "redacted"
    metadata_fields: tuple[str, ...] = DEFAULT_METADATA


def create_batch(
    session: Session, envelope: Envelope, *, actor: Actor, request: BatchRequest, reuse_recent: bool = False
) -> Made[ResearchBatch]:
    """Select the calls and keep the batch as a draft, with each call's pseudonyms and the exclusion counts.

    With `reuse_recent` (the selection form, the API), the same request sent again by the same person (a double
    click, the form sent twice, a script's retry) answers their draft of it made in the last `RESENT_WITHIN`
    (`new` false, nothing recorded) instead of a second one."""
    _check(request)
    if reuse_recent:
        # Both submissions of a double click arrive together: they take their turn here. The savepoint makes
        # SQLite take its write lock now (db.py); on PostgreSQL, the institute's row is the turnstile.
        with session.begin_nested():
            get_institute(session, request.institute_id, lock=True, field="institute_id")
            twin = recent_twin(session, actor=actor, request=request)
        if twin is not None:
            return Made(twin, new=False)
    institute = get_institute(session, request.institute_id, field="institute_id")
    selection = select_calls(
        session,
        actor=actor,
        criteria=request.criteria,
        study_end=request.study_end,
        redacted_audio=request.audio == "redacted",
    )
    batch = ResearchBatch(
        study=request.study.strip(),
        purpose=request.purpose.strip(),
        institute_id=institute.id,
        criteria=request.criteria.model_dump(mode="json", by_alias=True),
        audio=request.audio,
        metadata_fields=list(request.metadata_fields),
        study_end=request.study_end,
        # In UTC, as the row reads back: the answer to this request then agrees with every later read.
        access_start=request.access_start.astimezone(UTC),
        access_end=request.access_end.astimezone(UTC),
        state=BatchState.DRAFT,
        selected=len(selection.chosen),
        excluded=selection.excluded,
        created_by=actor.id,
        follow_up=[],
    )
    session.add(batch)
    session.flush()
    key = pseudonyms.new_key()
    sealed = envelope.seal_secret(key, object_id=batch.id)
    batch.pseudonym_key, batch.pseudonym_master_key_id = sealed.wrapped, sealed.master_key_id
    for position, candidate in enumerate(selection.chosen, start=1):
        customer = candidate.customer_id
        session.add(
            BatchItem(
                batch_id=batch.id,
                position=position,
                recording_id=candidate.id,
                customer_id=customer,
                call_pseudonym=pseudonyms.pseudonym(key, kind="call", value=candidate.id),
                customer_pseudonym=pseudonyms.pseudonym(key, kind="customer", value=customer) if customer else None,
                agent_pseudonym=pseudonyms.pseudonym(key, kind="agent", value=candidate.agent_ref),
            )
        )
    session.flush()
    record_event(
        session,
        actor=actor,
        action="research.batch_created",
        object_type="research_batch",
        object_id=batch.id,
        details={"institute_id": institute.id, "selected": batch.selected, "audio": batch.audio},
    )
    return Made(batch, new=True)


def recent_twin(session: Session, *, actor: Actor, request: BatchRequest) -> ResearchBatch | None:
    """`actor`'s draft made from this very request in the last `RESENT_WITHIN`, if any."""
    if actor.id is None:
        return None
    query = select(ResearchBatch).where(
        ResearchBatch.created_by == actor.id,
        ResearchBatch.state == BatchState.DRAFT,
        ResearchBatch.institute_id == request.institute_id,
        ResearchBatch.study == request.study.strip(),
        ResearchBatch.created_at >= utcnow() - RESENT_WITHIN,
    )
    wanted = (
        request.purpose.strip(),
        request.criteria.model_dump(mode="json", by_alias=True),
        request.audio,
        list(request.metadata_fields),
        request.study_end,
        request.access_start.astimezone(UTC),
        request.access_end.astimezone(UTC),
    )
    for draft in session.scalars(query.order_by(ResearchBatch.id.desc())):
        made = (
            draft.purpose,
            draft.criteria,
            draft.audio,
            draft.metadata_fields,
            draft.study_end,
            draft.access_start,
            draft.access_end,
        )
        if made == wanted:
            return draft
    return None


def approve_batch(session: Session, *, actor: Actor, batch_id: str) -> ResearchBatch:
    """The second compliance user's approval: queues the build. The creator cannot approve their own batch."""
    batch = get_batch(session, batch_id, lock=True)
    if batch.created_by is not None and batch.created_by == actor.id:
        raise Forbidden(
            "four-eyes rule: the batch's creator cannot approve it; a second compliance user must",
            why="four_eyes",
            refusal=_refused(actor, batch, "approval", "four_eyes"),
        )
    _require_state(batch, BatchState.DRAFT, "approved", refusal=_refused(actor, batch, "approval", "not_draft"))
    # Held to the commit, as a safeguard being recorded holds it: a safeguard replaced while the batch is approved
    # waits for the approval, or the approval for it (reading it afresh). Taken after the batch's row: no path locks
    # an institute and then one of its batches (a selection's turnstile inserts a new batch).
    gap = transfer_gap(get_institute(session, batch.institute_id, lock=True))
    if gap is not None:
        raise Conflict(
            f"no transfer safeguard: {gap}",
            why="no_safeguard",
            refusal=_refused(actor, batch, "approval", "safeguard"),
        )
    if batch.access_end <= utcnow():
        # Nothing could be downloaded, yet the institute would owe a confirmation and get overdue reminders.
        raise Conflict(
            f"the access window ended on {batch.access_end.isoformat(timespec='minutes')}: "
            "create the batch again with a window still to come",
            why="window_over",
            refusal=_refused(actor, batch, "approval", "window_over"),
        )
    if batch.selected == 0:
        raise Conflict(
            "the batch selected no calls; create another with wider criteria",
            why="batch_empty",
            refusal=_refused(actor, batch, "approval", "batch_empty"),
        )
    batch.state = BatchState.APPROVED
    batch.approved_by = actor.id
    batch.approved_at = utcnow()
    session.flush()
    record_event(
        session, actor=actor, action="research.batch_approved", object_type="research_batch", object_id=batch.id
    )
    return batch


def reject_batch(session: Session, *, actor: Actor, batch_id: str, reason: str) -> ResearchBatch:
    """The second compliance user refuses the draft; nothing is built and the pseudonym key is destroyed."""
    check_text("reason", reason, what="a rejection's reason")
    batch = get_batch(session, batch_id, lock=True)
    _require_state(batch, BatchState.DRAFT, "rejected", refusal=_refused(actor, batch, "rejection", "not_draft"))
    batch.state = BatchState.REJECTED
    batch.rejected_by = actor.id
    batch.rejection_reason = reason.strip()[:MAX_TEXT]
    batch.forget_pseudonyms()
    session.flush()
    record_event(
        session, actor=actor, action="research.batch_rejected", object_type="research_batch", object_id=batch.id
    )
    return batch


def get_batch(session: Session, batch_id: str, *, lock: bool = False) -> ResearchBatch:
    """With `lock`, the batch's row is held to the end of the transaction and read as committed now: a page's
    handler reads the batch before its decision locks it, and the locking read returned that copy, as it was before
    another officer's decision that the lock had waited for (the batch approved twice, or rejected once approved)."""
    query = select(ResearchBatch).where(ResearchBatch.id == batch_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    batch = session.scalars(query).first()
    if batch is None:
        raise NotFound(f"research batch {batch_id} not found", why="batch_not_found")
    return batch


def get_partner_batch(session: Session, *, actor: Actor, batch_id: str, lock: bool = False) -> ResearchBatch:
    """A batch of the partner's own institute; any other batch does not exist for them (refusal audited)."""
    institute_id = partner_institute(session, actor)
    try:
        batch = get_batch(session, batch_id, lock=lock)
    except NotFound:
        batch = None
    hidden = {BatchState.DRAFT, BatchState.REJECTED}
    if batch is None or institute_id is None or batch.institute_id != institute_id or batch.state in hidden:
        raise NotFound(
            f"research batch {batch_id} not found",
            why="batch_not_found",
            refusal=Refusal(actor, "research.partner_refused", "research_batch", batch_id, {"rule": "institute"}),
        )
    return batch


def partner_institute(session: Session, actor: Actor) -> str | None:
    """The institute a research partner belongs to (None for anyone else: they have no batches)."""
    user = session.get(User, actor.id) if actor.id else None
    if user is None or user.role != Role.RESEARCH_PARTNER:
        return None
    return user.institute_id


def list_batches(
    session: Session,
    *,
    institute_id: str | None = None,
    states: Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> list[ResearchBatch]:
    """Newest first; `limit + 1` rows are read by callers that page (see `next_id_cursor`)."""
    query = select(ResearchBatch).order_by(ResearchBatch.id.desc()).limit(limit)
    if institute_id is not None:
        query = query.where(ResearchBatch.institute_id == institute_id)
    if states:
        query = query.where(ResearchBatch.state.in_(list(states)))
    if cursor:
        query = query.where(ResearchBatch.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query))


def count_batches(session: Session, *, states: Sequence[str]) -> int:
    """How many batches are in one of `states` (the compliance list's overdue count)."""
    query = select(func.count()).select_from(ResearchBatch).where(ResearchBatch.state.in_(list(states)))
    return session.scalar(query) or 0


def partner_batches(
    session: Session, *, actor: Actor, cursor: str | None = None, limit: int = MAX_PAGE
) -> list[ResearchBatch]:
    """The partner's institute's released batches, newest first, paged as `list_batches`."""
    institute_id = partner_institute(session, actor)
    if institute_id is None:
        return []
    visible = [state for state in BatchState if state not in {BatchState.DRAFT, BatchState.REJECTED}]
    return list_batches(session, institute_id=institute_id, states=visible, cursor=cursor, limit=limit)


def batch_items(session: Session, batch_id: str) -> list[BatchItem]:
    return list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.position)))


def _check(request: BatchRequest) -> None:
    if request.audio not in AUDIO_CHOICES:
        raise Invalid("audio", "redacted or original", code="invalid_choice")
    unknown = sorted(set(request.metadata_fields) - set(METADATA_FIELDS))
    if unknown:
        raise Invalid("metadata_fields", f"unknown field {unknown[0]!r}; any of {', '.join(METADATA_FIELDS)}")
    if len(set(request.metadata_fields)) != len(request.metadata_fields):
        raise Invalid("metadata_fields", "name each field once", code="duplicate")
    if request.access_start.tzinfo is None or request.access_end.tzinfo is None:
        raise Invalid("access_start", "give a time zone", code="timezone_required")
    if request.access_end <= request.access_start:
        raise Invalid("access_end", "the access window ends before it starts", code="out_of_range", why="window_order")
    if request.access_end > study_ends_at(request.study_end, request.criteria.timezone):
        message = "the study cannot end before the access window does"
        raise Invalid("study_end", message, code="out_of_range", why="study_before_window")
    if request.study_end > utcnow().date() + timedelta(days=MAX_STUDY_DAYS):
        raise Invalid("study_end", "the study must end within ten years", code="out_of_range", why="study_too_long")
    if request.access_end <= utcnow():
        raise Invalid("access_end", "the access window is already over", code="out_of_range", why="window_over")
    check_line("study", request.study, what="a study's name", limit=MAX_STUDY)
    check_text("purpose", request.purpose, what="a purpose")


def _require_state(batch: ResearchBatch, state: BatchState, becoming: str, *, refusal: Refusal) -> None:
    if batch.state != state:
        # not_draft: every decision on a batch is taken on its draft (the second of two officers deciding at once)
        raise Conflict(
            f"research batch {batch.id} is {batch.state}; only a {state} batch can be {becoming}",
            why=f"not_{state}",
            refusal=refusal,
        )


def _refused(actor: Actor, batch: ResearchBatch, decision: str, rule: str) -> Refusal:
    """The audit event of a refused `decision` (approval, rejection) on the batch: every decision is on its trail."""
    return Refusal(actor, f"research.{decision}_refused", "research_batch", batch.id, {"rule": rule})
