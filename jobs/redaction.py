"""Redacting every stored transcript again, a batch to a transaction (`callvault redaction refresh`): a long run
keeps what it has done, and holds each transcript's lock for one batch only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.transcription.redaction_refresh import refresh_transcript, transcripts_after

BATCH = 50


@dataclass(frozen=True)
class RefreshReport:
    checked: int
    changed: int  # twins that came out different (rewritten unless `dry_run`)
    dry_run: bool


def refresh_redactions(
    sessions: sessionmaker[Session],
    *,
    actor: Actor,
    customer_number_pattern: str | None,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshReport:
    """Redact every stored transcript again and rewrite each twin that differs; `progress(checked, changed)`
    after each batch."""
    checked = changed = 0
    after = ""
    while True:
        with sessions() as session:
            transcripts = transcripts_after(session, after=after, limit=batch)
            if not transcripts:
                break
            for transcript in transcripts:
                checked += 1
                changed += refresh_transcript(
                    session, transcript, actor=actor, customer_number_pattern=customer_number_pattern, dry_run=dry_run
                )
            after = transcripts[-1].id
            session.commit()
        if progress is not None:
            progress(checked, changed)
    return RefreshReport(checked=checked, changed=changed, dry_run=dry_run)
