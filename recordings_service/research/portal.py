"""The partner's download: only its institute's ready package, only inside the access window, audited.

The package is decrypted as it is sent; a `Range` lets a broken download resume where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Forbidden, Refusal
from recordings_service.models import ApiToken, AuditEvent, CustodyConfirmation, ResearchBatch, User
from recordings_service.models.research import BatchState
from recordings_service.research.batches import get_batch, get_partner_batch
from recordings_service.research.confirmations import confirmations_of, pending_confirmation, pending_in
from recordings_service.research.lifecycle import DOWNLOAD_STARTED, DOWNLOADED, PACKAGE_BUILT, was_downloaded
from recordings_service.research.selection import items_excluded_since_built
from recordings_service.storage.encryption import Envelope, plaintext_range
from recordings_service.storage.object_store import ObjectStore
from recordings_service.tokens import dead_token_reason

# How often an answer in progress asks again whether the package may still go out (`stopped_downloading`).
RECHECK_EVERY_S = 2.0
DOWNLOAD_STOPPED = "research.download_stopped"


def window_text(batch: ResearchBatch) -> str:
    return (
        f"{batch.access_start.isoformat(timespec='minutes')} – {batch.access_end.isoformat(timespec='minutes')} (UTC)"
    )


class Blocker(StrEnum):
    """Why the package cannot be downloaded now (the `rule` of the audited refusal)."""

    WINDOW = "window"  # outside the access window
    NOT_READY = "not_ready"  # not built, expired, closed or overdue: no package to send
    CONFIRMED = "confirmed"  # the institute said every copy is gone; compliance has not decided yet
    # Never downloaded, it holds a call that may no longer go out: the jobs process builds it again without.
    OUTDATED = "outdated"
    # The same, its package (or a part of it) downloaded already: never served again, nor built again. The institute
    # holds those calls, which custody keeps outstanding and the follow-ups ask it to return or destroy; served again,
    # they went out anew after the customer's objection or erasure (a download begun with one byte was enough).
    OUTDATED_DOWNLOADED = "outdated_downloaded"


def download_blocker(
    session: Session,
    batch: ResearchBatch,
    *,
    now: datetime | None = None,
    history: Sequence[CustodyConfirmation] | None = None,
) -> Blocker | None:
    """The one rule for whether the package may be downloaded now: None if it may, else why not.

    The download endpoint refuses by it, and the partner API and portal offer the download link by it. `history`
    is the batch's confirmations (`confirmations_of`) where the caller has read them already."""
    now = now or utcnow()
    if not batch.access_start <= now < batch.access_end:
        return Blocker.WINDOW
    if batch.state != BatchState.READY or batch.package_key is None or batch.package_wrapped_key is None:
        return Blocker.NOT_READY
    if pending_in(history if history is not None else confirmations_of(session, batch.id)) is not None:
        return Blocker.CONFIRMED
    if items_excluded_since_built(session, batch):
        return Blocker.OUTDATED_DOWNLOADED if was_downloaded(session, batch.id) else Blocker.OUTDATED
    return None


def downloadable_batch(session: Session, *, actor: Actor, batch_id: str, now: datetime | None = None) -> ResearchBatch:
    """The partner's batch (locked), if its package may be downloaded now; else the refusal, audited."""
    batch = get_partner_batch(session, actor=actor, batch_id=batch_id, lock=True)
    blocker = download_blocker(session, batch, now=now)
    if blocker is Blocker.WINDOW:
        raise Forbidden(
            f"the package can be downloaded only inside its access window, {window_text(batch)}",
            refusal=Refusal(actor, "research.download_refused", "research_batch", batch.id, {"rule": "window"}),
        )
    if blocker is Blocker.NOT_READY:
        # On the trail too: a download tried after the batch closed (its copies said to be gone) is custody's business.
        raise Conflict(
            f"the package of research batch {batch.id} is not ready ({batch.state})",
            refusal=Refusal(actor, "research.download_refused", "research_batch", batch.id, {"rule": "not_ready"}),
        )
    if blocker is Blocker.CONFIRMED:
        confirmed = pending_confirmation(session, batch.id)
        assert confirmed is not None
        # The institute has said every copy is gone: a copy made now would be outside what it confirmed.
        raise Conflict(
            f"you confirmed on {confirmed.submitted_at:%Y-%m-%d} that every copy was {confirmed.method}; while "
            "compliance decides, the package is not downloaded again",
            refusal=Refusal(actor, "research.download_refused", "research_batch", batch.id, {"rule": "confirmed"}),
        )
    if blocker is Blocker.OUTDATED:
        # Not one more copy of a call whose customer objected (or asked for erasure) since the package was built.
        raise Conflict(
            f"a call was withdrawn from research batch {batch.id} after its package was built; the package is being "
            "built again without it: download it once it is ready",
            why="package_outdated",
            refusal=Refusal(actor, "research.download_refused", "research_batch", batch.id, {"rule": "outdated"}),
        )
    if blocker is Blocker.OUTDATED_DOWNLOADED:
        rule = {"rule": Blocker.OUTDATED_DOWNLOADED.value}
        raise Conflict(
            f"a call was withdrawn from research batch {batch.id} after its package was downloaded; the package is "
            "not served again: return or destroy the calls its follow-ups name, and ask for a new batch for the others",
            why="package_outdated",
            refusal=Refusal(actor, "research.download_refused", "research_batch", batch.id, rule),
        )
    return batch


def record_download_started(session: Session, *, actor: Actor, batch: ResearchBatch, start: int, stop: int) -> int:
    """Audit `batch.download_started` (user, IP, the bytes asked for) before the first byte goes out, so that a
    download whose process dies while sending is on the trail too. It counts in `downloads` only once it has
    completed the package (`record_download`). Returns the event's `seq`, which the answer's `batch.downloaded`
    names."""
    return record_event(
        session,
        actor=actor,
        action=DOWNLOAD_STARTED,
        object_type="research_batch",
        object_id=batch.id,
        details={"user": actor.name, "ip": actor.ip, "start": start, "requested": stop - start},
    ).seq


def record_download(
    session: Session,
    *,
    actor: Actor,
    batch_id: str,
    started: int,
    start: int,
    requested: int,
    sent: int,
    in_flight: int = 0,
    now: datetime | None = None,
) -> None:
    """Audit `batch.downloaded` once the answer ended: the bytes that went out (`sent` of the `requested` from byte
    `start`), whether that was all of them or the connection broke first, the bytes being written when it broke
    (`in_flight`: none, some or all of them reached the client), and whether it `counted` in the batch's
    `downloads` (`completes_package`). `started` is the `seq` of the answer's `batch.download_started`, so that
    `custody.download_history` pairs the two."""
    batch = get_batch(session, batch_id, lock=True)  # answers ending at once count one after the other
    counted = sent > 0 and completes_package(session, batch, start=start, stop=start + sent)
    if counted:
        batch.downloads += 1
        batch.last_download_at = now or utcnow()
    record_event(
        session,
        actor=actor,
        action=DOWNLOADED,
        object_type="research_batch",
        object_id=batch_id,
        details={
            "user": actor.name,
            "ip": actor.ip,
            "started": started,
            "bytes": sent,
            "start": start,
            "requested": requested,
            "complete": sent == requested,
            "in_flight": in_flight,
            "counted": counted,
        },
    )


def completes_package(session: Session, batch: ResearchBatch, *, start: int, stop: int) -> bool:
    """Whether bytes `start`..`stop` of the package, just sent, complete a download of it: the rule of `downloads`.

    A download counts once the bytes that went out (not those asked for) since the last one counted, together,
    hold every byte of the package: an answer from byte 0 that reached the end, or one broken off and resumed
    with ranges to the end (counted once, by the answer that completed it), or a reader that took it in ranges.
    An answer the connection broke off counts nothing by itself: the institute may hold part of a copy, which
    `lifecycle.was_downloaded` still says. An earlier answer's chunk in flight when it broke counts as sent for
    joining a later one: a client resumes from what it received, which may run into that chunk. Bytes of a
    package built before the current one do not add up to it, and answers recorded before this rule (no
    `counted`) were counted when they began, so not again."""
    size = batch.package_size or 0
    spans = [(start, stop)]
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "research_batch",
            AuditEvent.object_id == batch.id,
            AuditEvent.action.in_((DOWNLOADED, PACKAGE_BUILT)),
        )
        .order_by(AuditEvent.seq.desc())
    )
    for event in session.scalars(query):
        if event.action == PACKAGE_BUILT or event.details.get("counted", True):
            break  # the current package's bytes since the last download counted
        first, details = int(event.details.get("start", 0)), event.details
        spans.append((first, first + int(details.get("bytes", 0)) + int(details.get("in_flight", 0))))
    reached = 0
    for first, end in sorted(spans):
        if first > reached:
            break
        reached = max(reached, end)
    return size > 0 and reached >= size


def package_bytes(
    store: ObjectStore, envelope: Envelope, batch: ResearchBatch, *, start: int, stop: int
) -> Iterator[bytes]:
    """Plaintext bytes `start` (inclusive) to `stop` (exclusive) of the package, decrypted as they are read."""
    if batch.package_key is None or batch.package_wrapped_key is None:
        raise Conflict(f"the package of research batch {batch.id} is gone")
    reader = envelope.decrypting_stream(
        store.get(batch.package_key), wrapped=batch.package_wrapped_key, object_id=batch.id
    )
    with reader:
        yield from plaintext_range(reader, start=start, stop=stop)


def stopped_downloading(
    session: Session,
    *,
    actor: Actor,
    batch_id: str,
    token_id: str | None = None,
    session_version: int | None = None,
) -> bool:
    """Whether an answer in progress must end short: the package may no longer go out, or the one downloading may no
    longer download (the stop audited, its rule).

    An answer was checked once, when it began: access ended by compliance (a suspected breach), the window's end,
    or an objection fulfilled meanwhile did not stop a download in progress, which for a large package went on for
    minutes; nor did revoking the partner's token or disabling its account. The download endpoint asks this every
    `RECHECK_EVERY_S` while it sends, naming the token it was asked with, or the browser session's `session_version`."""
    rule = _holder_stopped(session, actor=actor, token_id=token_id, session_version=session_version)
    if rule is None:
        batch = session.get(ResearchBatch, batch_id)
        blocker = Blocker.NOT_READY if batch is None else download_blocker(session, batch)
        rule = None if blocker is None else blocker.value
    if rule is None:
        return False
    record_event(
        session,
        actor=actor,
        action=DOWNLOAD_STOPPED,
        object_type="research_batch",
        object_id=batch_id,
        details={"rule": rule},
    )
    return True


def _holder_stopped(session: Session, *, actor: Actor, token_id: str | None, session_version: int | None) -> str | None:
    """Why the principal that began the answer may no longer download (the rule), or None while it may: its account
    disabled, its sessions ended (`session_version` changed: signed out everywhere, a new role), its token revoked
    or expired."""
    user = session.get(User, actor.id) if actor.id is not None else None
    if user is None or not user.active:
        return "account_disabled"
    if token_id is not None:
        token = session.get(ApiToken, token_id)
        reason = "revoked" if token is None else dead_token_reason(token, now=utcnow())
        return None if reason is None else f"token_{reason}"
    if session_version is not None and user.session_version != session_version:
        return "session_ended"
    return None
