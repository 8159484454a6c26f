"""Audit anchoring: put the chain head in the object store every hour, so a truncated trail shows."""

from __future__ import annotations

import logging

from recordings_service import audit, audit_anchors
from recordings_service.db import utcnow
from recordings_service.runtime import Runtime

log = logging.getLogger("jobs.audit_anchor")


def anchor_chain_head(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        anchor = audit_anchors.anchor_head(
            session, runtime.store, retention_days=runtime.settings.audit_anchor_retention_days, now=utcnow()
        )
    counts = {"anchored": int(anchor is not None), "seq": anchor.count if anchor else 0}
    if anchor is not None:
        log.info("audit chain head anchored", extra=counts)
    return counts


def report_protection(runtime: Runtime) -> None:
    """At start: say whether anchors are under Object Lock, and whether new events are signed."""
    try:
        protection = audit_anchors.anchor_protection(runtime.store)
    except Exception as exc:  # noqa: BLE001 — a store that is down now may answer by the first run
        protection = f"unknown ({type(exc).__name__})"
    level = logging.INFO if protection == "object-lock compliance" else logging.WARNING
    log.log(level, "audit anchors: %s", protection)
    if audit.AuditKeys.from_settings(runtime.settings) is None:
        log.warning("CALLVAULT_AUDIT_KEY is not set: audit events are not signed and `callvault audit verify` refuses")
