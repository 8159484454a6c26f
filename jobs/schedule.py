"""The one declared list of periodic jobs. Each opens a session, calls one service function, commits, logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jobs import (
    audit_anchor,
    custody,
    evaluation_plans,
    ingest,
    integrity,
    research,
    retention,
    subject_access,
    transcription,
)
from recordings_service.runtime import Runtime


@dataclass(frozen=True)
class JobSpec:
    id: str
    seconds: int
    run: Callable[[Runtime], object]
    # Run once when the jobs process starts; if it raises, the job is not scheduled and the reason is logged.
    check: Callable[[Runtime], None] | None = None


JOBS: list[JobSpec] = [
    JobSpec("import_inbox", 30, ingest.import_inbox),
    JobSpec("reconcile_storage", 3600, ingest.reconcile),
    JobSpec("transcribe", 5, transcription.transcribe_pending, check=transcription.check_model),
    JobSpec("retention_sweep", 24 * 3600, retention.sweep_retention),
    JobSpec("subject_access_packages", 5, subject_access.build_packages),
    JobSpec("subject_access_expiry", 60, subject_access.expire_old_packages),
    JobSpec("research_packages", 5, research.build_batches),
    JobSpec("research_expiry", 60, custody.expire_batches),
    JobSpec("research_reminders", 24 * 3600, custody.remind_overdue),
    JobSpec("audit_anchor", 3600, audit_anchor.anchor_chain_head, check=audit_anchor.report_protection),
    # Hourly, though a plan fills once a week: the first run of each ISO week fills it, the rest find it done.
    JobSpec("evaluation_plans", 3600, evaluation_plans.fill_plans),
    JobSpec("integrity_check", 7 * 24 * 3600, integrity.check_originals),
]
