"""The weekly integrity job: re-hash every stored original and compare it with the hash recorded for it."""

from __future__ import annotations

import logging

from recordings_service.audit import Actor
from recordings_service.integrity import check_integrity
from recordings_service.runtime import Runtime

log = logging.getLogger("jobs.integrity")
INTEGRITY_ACTOR = Actor(id=None, name="integrity", role="system")


def check_originals(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        report = check_integrity(session, runtime.store, runtime.envelope, actor=INTEGRITY_ACTOR)
        session.commit()
        run = report.run
        counts = {"checked": run.checked, "mismatched": run.mismatched, "missing": run.missing}
    if report.intact:
        log.info("originals intact", extra={**counts, "duration_s": run.duration_s})
    else:
        log.error("originals damaged or missing", extra={**counts, "duration_s": run.duration_s})
