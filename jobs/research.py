"""Research batches: build approved batches' packages (leased, so any number of jobs processes may run).
Expiry and overdue reminders are in jobs/custody.py.

A build claims its batch (commit), then loads each call in a short session of its own that is closed without
committing, writes it into the streamed ZIP with no session open, and records the items' audio hashes (or
withdrawals), the progress and a renewed lease (commit, about once a second). The ZIP goes through SHA-256
and Tink straight into a multipart upload to the key the claim named (storage/streaming_upload.py); the
build finishes under the lease (commit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from jobs.leases import BUILD_OUTCOMES, work_through
from recordings_service.errors import DomainError
from recordings_service.models.research import BatchState
from recordings_service.research.build_queue import (
    BuildLeaseLost,
    ClaimedBuild,
    claim_build,
    fail_build,
    finish_build,
    keep_for_purge,
    package_key,
    record_items,
    requeue_outdated,
)
from recordings_service.research.follow_ups import flag_withdrawn_calls
from recordings_service.research.package import (
    BUILD_ACTOR,
    CallEntry,
    PackageSpec,
    Withdrawal,
    items_to_write,
    load_call,
    package_spec,
    package_stream,
    seal_package,
)
from recordings_service.runtime import Runtime
from recordings_service.storage.streaming_upload import upload_while_writing

log = logging.getLogger("jobs.research")
LEASE_S = 300.0
BUDGET_S = 300.0
RECORD_EVERY_S = 1.0


def build_batches(runtime: Runtime, *, budget_s: float = BUDGET_S, lease_s: float = LEASE_S) -> None:
    """Build approved batches' packages one at a time until none is left or the time budget is spent; first send
    back to be built again the ready packages holding a call that may no longer go out (an objection since), and
    flag for follow-up the downloaded ones holding such a call that the institute was not told of yet."""
    with runtime.sessions() as session:
        outdated = requeue_outdated(session, actor=BUILD_ACTOR)
        session.commit()
    if outdated:
        log.info("research packages outdated", extra={"batches": len(outdated)})
    with runtime.sessions() as session:
        flagged = flag_withdrawn_calls(session, actor=BUILD_ACTOR)
        session.commit()
    if flagged:
        log.info("research calls withdrawn after download flagged", extra={"batches": len(flagged)})
    work_through(
        runtime,
        claim=lambda session, owner: claim_build(session, owner=owner, lease_s=lease_s),
        work=lambda claim: build_one(runtime, claim, lease_s=lease_s),
        budget_s=budget_s,
        outcomes=(*BUILD_OUTCOMES, "closed"),
        log=log,
        summary="research packages",
    )


def build_one(runtime: Runtime, claim: ClaimedBuild, *, lease_s: float = LEASE_S) -> str:
    """Build, seal, upload and finish one claimed batch; returns the outcome counted in the run's log line."""
    started = time.monotonic()
    try:
        with runtime.sessions() as session:
            spec = package_spec(
                session, batch_id=claim.batch_id, public_url=runtime.settings.public_url, zone=runtime.settings.zone
            )
            pending = items_to_write(session, batch_id=claim.batch_id)
        progress = _Progress(runtime, claim, lease_s=lease_s, done=spec.selected - len(pending))
        # The ZIP streams through SHA-256 and Tink straight into a multipart upload: no spool file, and the
        # upload runs while later calls are still being read.
        sealed = upload_while_writing(
            runtime.store,
            package_key(claim.batch_id),
            lambda destination: seal_package(
                runtime.envelope,
                batch_id=claim.batch_id,
                chunks=package_stream(
                    runtime.store,
                    runtime.envelope,
                    spec=spec,
                    calls=_calls(runtime, spec, pending, progress),
                    on_call=progress.written,
                ),
                destination=destination,
            ),
        )
        progress.record()  # the last items; finishing checks the lease is still ours
        with runtime.sessions() as session:
            batch = finish_build(session, claim=claim, sealed=sealed, actor=BUILD_ACTOR)
            withdrawn, closed = batch.items_withdrawn, batch.state == BatchState.CLOSED
            session.commit()
    except BuildLeaseLost:
        log.warning("research build lease lost", extra={"batch": claim.batch_id})
        with runtime.sessions() as session:
            keep_for_purge(session, batch_id=claim.batch_id)
            session.commit()
        return "lease_lost"
    except Exception as exc:
        reason = exc.message if isinstance(exc, DomainError) else type(exc).__name__
        log.warning("research build failed", extra={"batch": claim.batch_id, "attempt": claim.attempt}, exc_info=True)
        with runtime.sessions() as session:
            try:
                outcome = fail_build(session, claim=claim, error=reason)
                session.commit()
            except BuildLeaseLost:
                return "lease_lost"
        return outcome
    if closed:
        log.info("research package empty: batch closed", extra={"batch": claim.batch_id, "withdrawn": withdrawn})
        return "closed"
    log.info(
        "research package built",
        extra={
            "batch": claim.batch_id,
            "calls": progress.written_count,
            "withdrawn": withdrawn,
            "size": sealed.size,
            "wall_s": round(time.monotonic() - started, 2),
        },
    )
    return "built"


class _Progress:
    """Records written items' audio hashes and withdrawals with the progress, renewing the lease each time:
    at most every `RECORD_EVERY_S` (a build that dies redoes every item anyway), and at the end."""

    def __init__(self, runtime: Runtime, claim: ClaimedBuild, *, lease_s: float, done: int) -> None:
        self._runtime = runtime
        self._claim = claim
        self._lease_s = lease_s
        self._last = time.monotonic()
        self._written: dict[str, str] = {}
        self._withdrawn: dict[str, str] = {}
        self.done = done
        self.written_count = 0

    def written(self, call: CallEntry, audio_sha256: str) -> None:
        self.written_count += 1
        self.done += 1
        self._written[call.item_id] = audio_sha256
        self._record_when_due()

    def withdrawn(self, withdrawal: Withdrawal) -> None:
        self.done += 1
        self._withdrawn[withdrawal.item_id] = withdrawal.reason
        self._record_when_due()

    def record(self) -> None:
        """Record what is pending, renewing the lease."""
        with self._runtime.sessions() as session:
            record_items(
                session,
                claim=self._claim,
                done=self.done,
                lease_s=self._lease_s,
                written=self._written,
                withdrawn=self._withdrawn,
            )
            session.commit()
        self._written, self._withdrawn = {}, {}
        self._last = time.monotonic()

    def _record_when_due(self) -> None:
        if time.monotonic() - self._last >= RECORD_EVERY_S:
            self.record()


def _calls(runtime: Runtime, spec: PackageSpec, item_ids: list[str], progress: _Progress) -> Iterator[CallEntry]:
    """Each item's call, loaded in a short session closed without committing; withdrawals are recorded."""
    ffmpeg = runtime.settings.ffmpeg_path()
    tone = runtime.settings.redaction_audio == "tone"
    for item_id in item_ids:
        with runtime.sessions() as session:
            loaded = load_call(
                session,
                runtime.store,
                runtime.envelope,
                spec=spec,
                item_id=item_id,
                ffmpeg=ffmpeg,
                tone=tone,
            )
        if isinstance(loaded, Withdrawal):
            log.info("research item withdrawn", extra={"batch": spec.batch_id, "reason": loaded.reason})
            progress.withdrawn(loaded)
        else:
            yield loaded
