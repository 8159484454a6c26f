"""Transcripts API: read a recording's transcript (JSON, txt, srt, vtt) and queue it for transcription again."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse

from recordings_service.permissions import Permission
from recordings_service.training.eligibility import require_trainer_may_use
from recordings_service.transcription import transcripts
from recordings_service.transcription.queue import requeue_transcription
from web.access import current_actor, current_can, requires
from web.api import api_spec
from web.api.validation import ErrorBody, refuse_invalid
from web.database import db
from web.identities import training_rules
from web.same_site import refuse_cross_site

bp = Blueprint("transcripts_api", __name__, url_prefix="/api/v1")


class TranscriptQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "txt", "srt", "vtt"] = "json"


class WordOut(BaseModel):
    start: float
    end: float
    text: str
    probability: float


class SegmentOut(BaseModel):
    speaker: str
    start: float
    end: float
    text: str
    words: list[WordOut]
    avg_logprob: float
    no_speech_prob: float
    suspect: bool


class TranscriptOut(BaseModel):
    language: str
    detected_language: str | None = Field(
        default=None,
        description="the language Whisper detected, when the call's language was `auto`; null when it was given",
    )
    engine: str
    model: str
    redacted: bool = Field(description="true: the redacted twin, personal data replaced by [KIND]")
    segments: list[SegmentOut]


class QueuedOut(BaseModel):
    recording_id: str
    job_id: str
    state: str


# Response validation is left to the JSON branch's schema in the docs: the txt/srt/vtt branches are not JSON.
@bp.get("/recordings/<recording_id>/transcript")
@requires(Permission.TRANSCRIPT_READ_REDACTED)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=None, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=["transcripts"],
    before=refuse_invalid,
)
def get_transcript(recording_id: str, query: TranscriptQuery) -> Response:
    """The transcript, segments in time order with speaker, word timings and trust signals (`suspect`).

    JSON by default (see TranscriptOut); `?format=txt|srt|vtt` for plain text or subtitles.
    """
    refuse_cross_site(object_type="recording", object_id=recording_id)
    require_trainer_may_use(db(), actor=current_actor(), recording_id=recording_id, rules=training_rules())
    redacted = not current_can(Permission.TRANSCRIPT_READ)
    transcript = transcripts.view_transcript(
        db(), actor=current_actor(), recording_id=recording_id, redacted=redacted, format=query.format
    )
    db().commit()
    if query.format == "json":
        document = {
            **transcripts.transcript_document(transcript),
            "detected_language": transcript.transcript.detected_language,
        }
        response = jsonify(TranscriptOut.model_validate(document).model_dump())
    else:
        mimetype, render = transcripts.TEXT_FORMATS[query.format]
        response = Response(render(transcript), content_type=mimetype)
    return response


@bp.post("/recordings/<recording_id>/transcribe")
@requires(Permission.TRANSCRIPTION_REQUEUE)
@api_spec.validate(resp=SpecResponse(HTTP_202=QueuedOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=["transcripts"])
def requeue(recording_id: str) -> tuple[Response, int]:
    """Queue the recording for transcription again (audited as `transcription.requeued`)."""
    job = requeue_transcription(db(), actor=current_actor(), recording_id=recording_id)
    db().commit()
    return jsonify({"recording_id": recording_id, "job_id": job.id, "state": job.state}), 202
