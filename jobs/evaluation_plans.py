"""Evaluation plans: fill this ISO week's "to evaluate" lists from every active plan (once per plan and week,
topped up until its Wednesday with calls that have become eligible since); weeks are those of the organisation's
time zone."""

from __future__ import annotations

import logging
from datetime import datetime

from recordings_service.db import utcnow
from recordings_service.evaluations import plans
from recordings_service.runtime import Runtime

log = logging.getLogger("jobs.evaluation_plans")


def fill_plans(runtime: Runtime, *, now: datetime | None = None) -> dict[str, int]:
    zone = runtime.settings.zone
    now = now or utcnow()
    week = plans.iso_week(now.astimezone(zone).date())
    with runtime.sessions() as session:
        counts = plans.fill_active_plans(session, week=week, zone=zone, now=now)
        session.commit()
    if counts["filled"] or counts["topped_up"] or counts["skipped"]:
        log.info("evaluation plans filled", extra=counts)
    return counts
