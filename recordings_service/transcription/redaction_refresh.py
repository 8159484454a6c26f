"""Redacting the stored transcripts again with the current detectors (`callvault redaction refresh`).

A release that finds more (a name said again without a cue, a customer-number rule set later) changes only the
transcripts written after it, unless the stored ones are redacted again: their twins are what trainers, partners
and the search index read. A twin that comes out different is written through `store_segments`, the one write
path of transcript text (the index follows); a clip cut from such a call is outdated until a trainer cuts it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.models import Transcript
from recordings_service.redaction.transcripts import CARD_KINDS, redact_transcript, redactions_of
from recordings_service.transcript_text import segments_of, twin_of
from recordings_service.transcription.pipeline import store_segments


def transcripts_after(session: Session, *, after: str, limit: int) -> list[Transcript]:
    """The next `limit` transcripts by id, locked against a transcription or rectification writing them meanwhile."""
    return list(
        session.scalars(
            select(Transcript)
            .where(Transcript.id > after)
            .order_by(Transcript.id)
            .limit(limit)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


@dataclass(frozen=True)
class Refreshed:
    """What redacting a transcript again came to: whether its twin changed, and with it where card data was found
    (an original muted before is muted again over what the earlier redaction missed)."""

    changed: bool
    card_data_changed: bool = False


def refresh_transcript(
    session: Session, transcript: Transcript, *, actor: Actor, customer_number_pattern: str | None, dry_run: bool
) -> Refreshed:
    """Redact the transcript again; whether its twin comes out different (rewritten, and audited
    `transcript.redaction_refreshed` with the counts before and after, unless `dry_run`)."""
    segments = segments_of(session, transcript)
    before = twin_of(session, transcript) or []
    twin = redact_transcript(segments, transcript.language, customer_number_pattern=customer_number_pattern).twin
    if twin == before:
        return Refreshed(changed=False)
    if not dry_run:
        store_segments(session, transcript, segments, customer_number_pattern=customer_number_pattern)
        record_event(
            session,
            actor=actor,
            action="transcript.redaction_refreshed",
            object_type="recording",
            object_id=transcript.recording_id,
            details={"redactions_before": len(redactions_of(before)), "redactions_after": len(redactions_of(twin))},
        )
    return Refreshed(changed=True, card_data_changed=_card_data(before) != _card_data(twin))


def _card_data(twin: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    return [(r.segment, r.start_s, r.end_s) for r in redactions_of(twin) if r.kind in CARD_KINDS]
