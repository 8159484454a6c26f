"""Return or destruction: the partner confirms (with an optional PDF certificate), compliance accepts or rejects.

Accepting closes the batch (`confirmed`) and destroys its pseudonym key, so the pseudonyms can no longer be
recomputed. A batch never downloaded is closed by the expiry job instead (`never_downloaded`: research/lifecycle.py),
so its institute, which holds no copy, is refused a confirmation.
The certificate is stored encrypted under `custody/<batch>/`, outside `exports/<batch>/`, which expiry empties.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, NotFound, Refusal, TooLarge
from recordings_service.models import CustodyConfirmation, ResearchBatch, User
from recordings_service.models.research import BatchState, ClosedReason, CustodyMethod
from recordings_service.research.batches import get_batch, get_partner_batch
from recordings_service.research.dates import check_not_future, earliest_date
from recordings_service.research.lifecycle import close_batch, last_served_at, was_downloaded
from recordings_service.research.text import check_line, check_text
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore

MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
ACCEPTED = "accepted"
REJECTED = "rejected"
# A confirmation can be given once the package exists: early (the study ended sooner) or late (overdue).
CONFIRMABLE = frozenset({BatchState.READY, BatchState.EXPIRED, BatchState.OVERDUE})


class NotDownloaded(Conflict):
    """Return or destruction confirmed of a batch not one byte of which was downloaded: there is no copy."""

    code = "not_downloaded"


class ConfirmationBlocker(StrEnum):
    """Why the partner cannot confirm return or destruction now."""

    NO_PACKAGE = "not_confirmable"  # not built yet, or closed
    PENDING = "confirmation_pending"  # one waits for compliance's decision
    NOT_DOWNLOADED = "not_downloaded"  # nothing was served: the batch closes by itself when its window ends


def confirmation_blocker(
    session: Session, batch: ResearchBatch, *, history: Sequence[CustodyConfirmation] | None = None
) -> ConfirmationBlocker | None:
    """The one rule for whether the partner may confirm now: None if they may, else why not.

    The confirmation is refused by it, and the portal offers its form by it. `history` is the batch's
    confirmations (`confirmations_of`) where the caller has read them already; without it they are read here."""
    if batch.state not in CONFIRMABLE:
        return ConfirmationBlocker.NO_PACKAGE
    if pending_in(history if history is not None else confirmations_of(session, batch.id)) is not None:
        return ConfirmationBlocker.PENDING
    if not was_downloaded(session, batch.id):
        return ConfirmationBlocker.NOT_DOWNLOADED
    return None


def submit_confirmation(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    batch_id: str,
    method: str,
    confirmed_on: date,
    signer: str,
    title: str,
    statement: str,
    certificate: bytes | None = None,
) -> CustodyConfirmation:
    """The partner's confirmation that every copy of the batch was returned or destroyed."""
    batch = get_partner_batch(session, actor=actor, batch_id=batch_id, lock=True)
    blocker = confirmation_blocker(session, batch)
    # Every refused confirmation is on the batch's trail: custody is what compliance answers for.
    refusal = (
        Refusal(actor, "research.confirmation_refused", "research_batch", batch.id, {"rule": blocker.value})
        if blocker is not None
        else None
    )
    if blocker is ConfirmationBlocker.NO_PACKAGE:
        raise Conflict(
            f"research batch {batch.id} is {batch.state}: nothing to return or destroy",
            why="not_confirmable",
            refusal=refusal,
        )
    if blocker is ConfirmationBlocker.PENDING:
        raise Conflict(
            "a confirmation of this batch is waiting for compliance's decision already",
            why="confirmation_pending",
            refusal=refusal,
        )
    if blocker is ConfirmationBlocker.NOT_DOWNLOADED:
        # Accepted, it would close the batch as `confirmed`: a return or destruction of copies never made.
        raise NotDownloaded(
            f"nothing of research batch {batch.id} was downloaded, so there is nothing to return or destroy: the "
            "batch closes by itself, owing no confirmation, once its access window has ended "
            f"({batch.access_end.isoformat(timespec='minutes')})",
            refusal=refusal,
        )
    try:
        chosen = CustodyMethod(method)
    except ValueError:
        raise Invalid("method", "returned or destroyed", code="invalid_choice") from None
    check_not_future(
        "date", confirmed_on, message="the return or destruction cannot be in the future", why="custody_in_future"
    )
    if batch.built_at is not None and confirmed_on < earliest_date(batch.built_at):
        raise Invalid(
            "date",
            f"the package was built on {batch.built_at.date().isoformat()}: no copy existed before",
            code="before_package",
            values={"built_on": batch.built_at.date()},
        )
    last_served = last_served_at(session, batch.id)
    if last_served is not None and confirmed_on < earliest_date(last_served):
        # A copy downloaded after that day was not returned or destroyed on it.
        raise Invalid(
            "date",
            f"the package was last downloaded on {last_served.date().isoformat()}: the copies cannot have been "
            f"{chosen.value} before",
            code="before_last_download",
            values={"downloaded_on": last_served.date()},
        )
    check_line("signer", signer, what="a signer's name", limit=200)
    check_line("title", title, what="a signer's title", limit=200)
    check_text("statement", statement, what="a statement")
    confirmation = CustodyConfirmation(
        batch_id=batch.id,
        method=chosen.value,
        confirmed_on=confirmed_on,
        signer=signer.strip(),
        title=title.strip(),
        statement=statement.strip(),
        submitted_by=actor.id,
    )
    session.add(confirmation)
    session.flush()
    if certificate is not None:
        _store_certificate(store, envelope, confirmation, certificate)
    record_event(
        session,
        actor=actor,
        action="research.confirmation_submitted",
        object_type="research_batch",
        object_id=batch.id,
        details={"confirmation_id": confirmation.id, "method": chosen.value, "certificate": certificate is not None},
    )
    return confirmation


def accept_confirmation(session: Session, *, actor: Actor, batch_id: str) -> ResearchBatch:
    """Close the batch: custody ends, and the pseudonym key is destroyed."""
    batch = get_batch(session, batch_id, lock=True)
    confirmation = _pending(session, actor, batch.id, decision="accept")
    now = utcnow()
    confirmation.decision, confirmation.decided_by, confirmation.decided_at = ACCEPTED, actor.id, now
    details = {"confirmation_id": confirmation.id, "method": confirmation.method}
    close_batch(session, batch, ClosedReason.CONFIRMED, actor=actor, at=now, details=details)
    return batch


def reject_confirmation(session: Session, *, actor: Actor, batch_id: str, reason: str) -> ResearchBatch:
    """Send the confirmation back to the partner with the reason; the batch stays open."""
    check_text("reason", reason, what="a reason")
    batch = get_batch(session, batch_id, lock=True)
    confirmation = _pending(session, actor, batch.id, decision="reject")
    confirmation.decision, confirmation.decided_by, confirmation.decided_at = REJECTED, actor.id, utcnow()
    confirmation.rejection_reason = reason.strip()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="research.confirmation_rejected",
        object_type="research_batch",
        object_id=batch.id,
        details={"confirmation_id": confirmation.id},
    )
    return batch


def confirmations_of(session: Session, batch_id: str) -> list[CustodyConfirmation]:
    """Newest first."""
    query = select(CustodyConfirmation).where(CustodyConfirmation.batch_id == batch_id)
    return list(session.scalars(query.order_by(CustodyConfirmation.id.desc())))


def submitters(session: Session, history: Iterable[CustodyConfirmation]) -> dict[str, str]:
    """The account name that submitted each confirmation in `history`, by confirmation id (none for an account
    since deleted): who at the institute vouched for the return or destruction."""
    by_user = {c.id: c.submitted_by for c in history if c.submitted_by is not None}
    if not by_user:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(set(by_user.values()))))
    names = {row.id: row.username for row in rows}
    return {confirmation_id: names[user_id] for confirmation_id, user_id in by_user.items() if user_id in names}


def pending_confirmation(session: Session, batch_id: str) -> CustodyConfirmation | None:
    return pending_in(confirmations_of(session, batch_id))


def pending_in(history: Iterable[CustodyConfirmation]) -> CustodyConfirmation | None:
    """The confirmation in `history` still waiting for compliance's decision, if any."""
    return next((c for c in history if c.decision is None), None)


def open_certificate(
    session: Session, store: ObjectStore, envelope: Envelope, *, actor: Actor, confirmation_id: str
) -> bytes:
    """The certificate PDF (compliance), audited."""
    confirmation = session.get(CustodyConfirmation, confirmation_id)
    if confirmation is None or confirmation.certificate_key is None or confirmation.certificate_wrapped_key is None:
        raise NotFound(f"confirmation {confirmation_id} has no certificate", why="certificate_not_found")
    record_event(
        session,
        actor=actor,
        action="research.certificate_viewed",
        object_type="research_batch",
        object_id=confirmation.batch_id,
        details={"confirmation_id": confirmation.id},
    )
    with envelope.decrypting_stream(
        store.get(confirmation.certificate_key), wrapped=confirmation.certificate_wrapped_key, object_id=confirmation.id
    ) as plaintext:
        return plaintext.read()


def certificate_key(batch_id: str, confirmation_id: str) -> str:
    return f"custody/{batch_id}/{confirmation_id}.pdf"


def _store_certificate(store: ObjectStore, envelope: Envelope, confirmation: CustodyConfirmation, body: bytes) -> None:
    if len(body) > MAX_CERTIFICATE_BYTES:
        raise TooLarge("certificate", f"at most {MAX_CERTIFICATE_BYTES // (1024 * 1024)} MB")
    # Checked by content, not by the name or type the browser claims.
    if not body.startswith(PDF_MAGIC):
        raise Invalid("certificate", "must be a PDF document", code="not_pdf")
    key = certificate_key(confirmation.batch_id, confirmation.id)
    with tempfile.TemporaryDirectory() as work:
        sealed = Path(work) / "certificate.enc"
        with sealed.open("wb") as destination:
            wrapped = envelope.encrypt(io.BytesIO(body), destination, object_id=confirmation.id)
        with sealed.open("rb") as upload:
            store.put(key, upload)
    confirmation.certificate_key = key
    confirmation.certificate_sha256 = hashlib.sha256(body).hexdigest()
    confirmation.certificate_size = len(body)
    confirmation.certificate_wrapped_key, confirmation.certificate_master_key_id = (
        wrapped.wrapped,
        wrapped.master_key_id,
    )


def _pending(session: Session, actor: Actor, batch_id: str, *, decision: str) -> CustodyConfirmation:
    """The confirmation `decision` (accept, reject) is about; refused, audited, when none waits (the second of two
    officers deciding at once finds it decided)."""
    confirmation = pending_confirmation(session, batch_id)
    if confirmation is None:
        details = {"rule": "none_pending", "decision": decision}
        raise Conflict(
            f"research batch {batch_id} has no confirmation waiting for a decision",
            why="none_pending",
            refusal=Refusal(actor, "research.confirmation_decision_refused", "research_batch", batch_id, details),
        )
    return confirmation
