"""The rows a deleted recording leaves in other tables: deleted, or (where a count or a span must stay for a trend or
a training set) blanked of what people said or wrote about the call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from recordings_service.evaluations.blanking import blank_calibration_text, blank_evaluation_text
from recordings_service.models import (
    Annotation,
    CalibrationSession,
    CallTag,
    Evaluation,
    Nomination,
    SegmentVerification,
    TrainingClip,
    Transcript,
    TranscriptionJob,
)
from recordings_service.transcription.search_index import index_rows

ROW_KINDS = (
    "call_tags",
    "segment_verifications",
    "transcripts",
    "annotations",
    "transcription_jobs",
    "evaluation_comments",
    "calibration_comments",
    "training_nominations",
    "training_clips",
)


def delete_dependent_rows(session: Session, ids: list[str], *, reason: str, now: datetime) -> dict[str, Counter[str]]:
    """Delete or blank the rows of these recordings in every dependent table; counts by recording and kind."""
    counts = {recording_id: Counter(dict.fromkeys(ROW_KINDS, 0)) for recording_id in ids}
    # One probe instead of a statement per table: a sweep's recordings often have nothing in most of them.
    # It runs under the recordings' row locks, which a new child row's foreign-key check waits for (PostgreSQL).
    found = session.execute(
        select(
            *(
                exists().where(column.in_(ids))
                for column in (
                    Transcript.recording_id,
                    Annotation.recording_id,
                    TranscriptionJob.recording_id,
                    Evaluation.recording_id,
                    index_rows.c.recording_id,
                    Nomination.recording_id,
                    TrainingClip.recording_id,
                    CalibrationSession.recording_id,
                    CallTag.recording_id,
                )
            )
        )
    ).one()
    has_transcript, has_annotations, has_job, has_evaluations, indexed, nominated, clipped, calibrated, tagged = tuple(
        found
    )

    def tally(kind: str, statement: Any, owner: Mapping[str, str] | None = None) -> None:
        for (row_id,) in session.execute(statement, execution_options={"synchronize_session": False}):
            counts[owner[row_id] if owner else row_id][kind] += 1

    def owners(model: type[Transcript]) -> dict[str, str]:
        """The recording of each of the model's rows that belong to these recordings, by row id."""
        return dict(session.execute(select(model.id, model.recording_id).where(model.recording_id.in_(ids))).all())

    if has_transcript:
        transcripts = owners(Transcript)
        tally(
            "segment_verifications",
            delete(SegmentVerification)
            .where(SegmentVerification.transcript_id.in_(list(transcripts)))
            .returning(SegmentVerification.transcript_id),
            transcripts,
        )
        tally(
            "transcripts",
            delete(Transcript).where(Transcript.id.in_(list(transcripts))).returning(Transcript.recording_id),
        )
    if tagged:  # free text staff wrote about the call ("churn Virtanen")
        tally("call_tags", delete(CallTag).where(CallTag.recording_id.in_(ids)).returning(CallTag.recording_id))
    if has_annotations:
        tally(
            "annotations", delete(Annotation).where(Annotation.recording_id.in_(ids)).returning(Annotation.recording_id)
        )
    if has_job:
        tally(
            "transcription_jobs",
            delete(TranscriptionJob)
            .where(TranscriptionJob.recording_id.in_(ids))
            .returning(TranscriptionJob.recording_id),
        )
    if has_evaluations:  # scores stay for the trends; what evaluators wrote about the call goes
        for recording_id in blank_evaluation_text(session, ids):
            counts[recording_id]["evaluation_comments"] += 1
    if calibrated:
        for recording_id in blank_calibration_text(session, ids):
            counts[recording_id]["calibration_comments"] += 1
    if indexed:
        session.execute(delete(index_rows).where(index_rows.c.recording_id.in_(ids)))  # PostgreSQL also cascades
    if nominated:
        tally(
            "training_nominations",
            delete(Nomination).where(Nomination.recording_id.in_(ids)).returning(Nomination.recording_id),
        )
    if clipped:
        # The clips' objects go with `derived/<id>/`; their rows keep the span and the reason, so a training set
        # shows the gap, and lose what the trainer wrote about the call.
        tally(
            "training_clips",
            update(TrainingClip)
            .where(TrainingClip.recording_id.in_(ids), TrainingClip.removed_at.is_(None))
            .values(TrainingClip.removal(reason, now))
            .returning(TrainingClip.recording_id),
        )
    return counts
