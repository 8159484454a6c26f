"""Rectification (GDPR Art. 16): correct a call's metadata or transcript text, keeping what each value was.

Every corrected value is kept beside the value it replaced (`SubjectCorrection`) and audited. The original
audio is evidence and is never edited. A corrected transcript goes through the same path as a new one
(`store_segments`: card data scrubbed, the redacted twin rebuilt, the search index rewritten), so the
corrected words are found and the old ones no longer are.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.account_names import CALL_NAME, refuse_invisible
from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid
from recordings_service.models import Recording, SubjectCorrection, SubjectRequest, Transcript
from recordings_service.models.privacy import SubjectRequestKind
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.retention import recompute_retain_until
from recordings_service.privacy.subjects import get_request, refused
from recordings_service.recordings import LANGUAGES, get_playable_recording
from recordings_service.transcript_text import segments_of
from recordings_service.transcription.pipeline import store_segments

MAX_SEGMENT_TEXT = 5000


@dataclass(frozen=True)
class SegmentFix:
    segment: int
    text: str


def _text(value: Any, *, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"text of 1 to {limit} characters")
    return value.strip()


def _queue(value: Any) -> str:
    queue = _text(value, limit=100)
    # One line of visible text, as ingest takes a call's queue: a line break, a tab, an escape or a zero-width space
    # reached the call list, its filters and CSV exports as corrected, a queue no other call is of.
    refuse_invisible(queue, field="metadata.queue", what=CALL_NAME, why="invisible_in_name")
    return queue


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _language(value: Any) -> str:
    # A language the service works in, as ingest takes it: "de" was stored, and the call could no longer be found by
    # its language (the filters take these alone). Not "auto": a correction says which language was spoken.
    spoken = [language for language in LANGUAGES if language != "auto"]
    if value not in spoken:
        raise ValueError(f"one of {', '.join(spoken)}")
    return str(value)


def _direction(value: Any) -> str:
    if value not in ("inbound", "outbound"):
        raise ValueError("inbound or outbound")
    return str(value)


def _agreement(value: Any) -> bool | None:
    return None if value is None else _flag(value)


# The metadata a data subject can have corrected, each with its check. Identifiers of the call (source,
# external id, times, hashes) are the controller's records of the call itself, not claims about the subject.
RECTIFIABLE: dict[str, Any] = {
    "language": _language,
    "direction": _direction,
    "notice_given": _flag,
    "agreement_made": _agreement,
    "queue": _queue,
}


def rectify(
    session: Session,
    *,
    actor: Actor,
    request_id: str,
    recording_id: str | None,
    metadata: Mapping[str, Any] | None = None,
    transcript: Sequence[SegmentFix] | None = None,
    zone: tzinfo,
    customer_number_pattern: str | None = None,
    now: datetime | None = None,
) -> SubjectRequest:
    """Apply corrections to one of the customer's calls; the request may be fulfilled again for another call. A
    corrected `agreement_made` recomputes the call's retention, its periods counted in `zone`."""
    now = now or utcnow()
    request = get_request(session, request_id, lock=True)
    if request.kind != SubjectRequestKind.RECTIFICATION:
        raise Conflict(
            f"subject request {request_id} is a request for {request.kind}, not rectification",
            why="other_kind",
            refusal=refused(actor, request, "fulfil", "other_kind"),
        )
    if not metadata and not transcript:
        raise Invalid("metadata", "give metadata or transcript corrections", code="missing")
    if not recording_id:
        raise Invalid("recording_id", "name the call to correct", code="missing")
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    # A deletion takes the call's customer away: it read as another customer's call.
    if recording.status == RecordingStatus.DELETED:
        raise Conflict(
            f"recording {recording_id} has been deleted: nothing of it is left to correct",
            why="recording_deleted",
            field="recording_id",
        )
    if recording.customer_id != request.customer_id:
        raise Invalid("recording_id", "not a call of this request's customer", code="other_customer")
    changes = _checked_metadata(metadata or {})
    corrected = _correct_metadata(session, recording, changes, request=request, actor=actor, zone=zone, now=now)
    corrections = [
        *corrected,
        *_correct_transcript(
            session,
            recording,
            list(transcript or []),
            request=request,
            actor=actor,
            now=now,
            customer_number_pattern=customer_number_pattern,
        ),
    ]
    session.add_all(corrections)
    session.flush()
    recordings = sorted({*request.outcome.get("recordings", []), recording.id})
    request.outcome = {
        **request.outcome,
        "recordings": recordings,
        "corrections": int(request.outcome.get("corrections", 0)) + len(corrections),
    }
    if request.completed_at is None:
        request.completed_at = now
    record_event(
        session,
        actor=actor,
        action="recording.rectified",
        object_type="recording",
        object_id=recording.id,
        details={
            "request_id": request.id,
            "fields": sorted(correction.field for correction in corrected),  # those whose value changed
            "segments": sorted(fix.segment for fix in transcript or []),
            "corrections": [correction.id for correction in corrections],
        },
    )
    return request


def corrections_of(session: Session, *, recording_id: str) -> list[SubjectCorrection]:
    """Every correction of a recording, oldest first (what the access package and the call's history show)."""
    return list(
        session.scalars(
            select(SubjectCorrection)
            .where(SubjectCorrection.recording_id == recording_id)
            .order_by(SubjectCorrection.corrected_at, SubjectCorrection.id)
        )
    )


def view_corrections(session: Session, *, actor: Actor, request: SubjectRequest) -> list[SubjectCorrection]:
    """The corrections made under a request, oldest first; audited, since they hold transcript text, naming the
    recordings they correct (each one's trail lists the event)."""
    corrections = list(
        session.scalars(
            select(SubjectCorrection)
            .where(SubjectCorrection.request_id == request.id)
            .order_by(SubjectCorrection.corrected_at, SubjectCorrection.id)
        )
    )
    if corrections:
        record_event(
            session,
            actor=actor,
            action="subject_request.corrections_viewed",
            object_type="subject_request",
            object_id=request.id,
            details={
                "corrections": len(corrections),
                "recordings": ",".join(dict.fromkeys(item.recording_id for item in corrections)),
            },
        )
    return corrections


def _checked_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    checked = {}
    for name, value in metadata.items():
        check = RECTIFIABLE.get(name)
        if check is None:
            raise Invalid(
                f"metadata.{name}",
                f"not correctable; one of {', '.join(RECTIFIABLE)}",
                code="unknown_field",
                why="not_correctable",
            )
        try:
            checked[name] = check(value)
        except ValueError as exc:
            raise Invalid(f"metadata.{name}", str(exc), code="invalid") from None
    return checked


def _correct_metadata(
    session: Session,
    recording: Recording,
    changes: Mapping[str, Any],
    *,
    request: SubjectRequest,
    actor: Actor,
    zone: tzinfo,
    now: datetime,
) -> list[SubjectCorrection]:
    corrections = []
    for name, value in changes.items():
        previous = getattr(recording, name)
        if previous == value:
            continue
        setattr(recording, name, value)
        corrections.append(
            _correction(request, recording, field=name, previous=previous, value=value, actor=actor, now=now)
        )
    if "agreement_made" in changes:
        # Whether an agreement was made decides how long the call is kept as its evidence (after an erasure: whether
        # it is kept at all).
        recording.retain_until = recompute_retain_until(session, recording, zone=zone, now=now)
    return corrections


def _correct_transcript(
    session: Session,
    recording: Recording,
    fixes: list[SegmentFix],
    *,
    request: SubjectRequest,
    actor: Actor,
    now: datetime,
    customer_number_pattern: str | None,
) -> list[SubjectCorrection]:
    if not fixes:
        return []
    # Locked and read afresh: a transcription or redaction refresh committing meanwhile would otherwise be
    # overwritten by the segments read before it, corrected or not.
    transcript = session.scalars(
        select(Transcript)
        .where(Transcript.recording_id == recording.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if transcript is None:
        raise Conflict(
            f"recording {recording.id} has no transcript to correct ({recording.status})", why="no_transcript"
        )
    kept = segments_of(session, transcript)
    segments = copy.deepcopy(kept)
    seen: set[int] = set()
    for index, fix in enumerate(fixes):
        if not 0 <= fix.segment < len(segments) or fix.segment in seen:
            raise Invalid(
                f"transcript.{index}.segment",
                f"a segment number from 0 to {len(segments) - 1}, once",
                code="invalid",
                why="segment_number",
                values={"last": len(segments) - 1},
            )
        seen.add(fix.segment)
        text = fix.text.strip()
        if not text or len(text) > MAX_SEGMENT_TEXT:
            raise Invalid(
                f"transcript.{index}.text",
                f"the corrected text, 1 to {MAX_SEGMENT_TEXT} characters",
                why="segment_text",
            )
        # The words' timings belonged to the recognised text; a corrected segment is timed as a whole.
        segments[fix.segment] = {**segments[fix.segment], "text": text, "words": [], "corrected": True}
    previous = {fix.segment: str(kept[fix.segment].get("text") or "") for fix in fixes}
    store_segments(session, transcript, segments, customer_number_pattern=customer_number_pattern)
    stored = segments_of(session, transcript)
    corrections = [
        _correction(
            request,
            recording,
            field="segment",
            previous=previous[fix.segment],
            value=stored[fix.segment]["text"],  # as kept: card data scrubbed
            actor=actor,
            now=now,
            transcript_id=transcript.id,
            segment=fix.segment,
        )
        for fix in fixes
    ]
    return corrections


def _correction(
    request: SubjectRequest,
    recording: Recording,
    *,
    field: str,
    previous: Any,
    value: Any,
    actor: Actor,
    now: datetime,
    transcript_id: str | None = None,
    segment: int | None = None,
) -> SubjectCorrection:
    return SubjectCorrection(
        request_id=request.id,
        recording_id=recording.id,
        transcript_id=transcript_id,
        field=field,
        segment=segment,
        previous=previous,
        value=value,
        corrected_by=actor.id,
        corrected_at=now,
    )
