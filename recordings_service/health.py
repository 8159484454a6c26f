"""Readiness: is the database reachable and migrated, does the object store answer, and how are audit anchors kept?"""

from __future__ import annotations

from sqlalchemy import text

from recordings_service import audit_anchors, schema
from recordings_service.errors import Unavailable
from recordings_service.runtime import Runtime


def readiness(runtime: Runtime) -> tuple[bool, dict[str, str]]:
    """Each part's state; the first value is True only when every part is ready."""
    parts: dict[str, str] = {}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        parts["db"] = "ok"
    except Exception as exc:  # noqa: BLE001 — any failure means not ready; the type is enough to report
        parts["db"] = f"error: {type(exc).__name__}"
    try:
        runtime.store.check()
        parts["store"] = "ok"
    except Unavailable as exc:  # what is wrong, in words that name no secret (a 403, a bucket not versioned)
        parts["store"] = f"error: {exc.message}"
    except Exception as exc:  # noqa: BLE001
        parts["store"] = f"error: {type(exc).__name__}"
    parts["migrations"] = schema.migration_state(runtime.engine) if parts["db"] == "ok" else "unknown"
    # Reported, not required: a store without Object Lock still keeps anchors, only not beyond its admins' reach.
    try:
        parts["anchors"] = audit_anchors.anchor_protection(runtime.store) if parts["store"] == "ok" else "unknown"
    except Exception as exc:  # noqa: BLE001
        parts["anchors"] = f"error: {type(exc).__name__}"
    ready = parts["db"] == "ok" and parts["store"] == "ok" and parts["migrations"] == "head"
    return ready, parts
