"""Recordings API: ingest (streamed multipart upload), list, fetch, and play (with a ticket) or download the audio."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse

from recordings_service import originals, playback, recordings
from recordings_service.audio.formats import format_of
from recordings_service.calls import ingest
from recordings_service.errors import Forbidden, Invalid
from recordings_service.models import Recording
from recordings_service.permissions import Permission
from recordings_service.privacy.deletion_feed import DeletionWindow, browse_deletions
from recordings_service.recordings import IsoDatetime, RecordingFilters, RecordingOut
from recordings_service.redaction.audio import RedactedAudio, record_redacted_served, redacted_audio, redacted_bytes
from recordings_service.training.eligibility import require_trainer_may_use
from recordings_service.transcription.queue import TranscriptionStatus, transcription_status
from web.access import current_actor, current_can, current_principal, denial, requires
from web.api import api_spec
from web.api.file_answers import RECORDING_MEDIA_TYPES, FileAnswer
from web.api.ranges import RangeHeaders, entity_tag, ranged_response, requested_span, serves_bytes
from web.api.uploads import ENVELOPE_BYTES, ChecksumHeaders, receive_upload, verify_client_checksums
from web.api.validation import ErrorBody, refuse_invalid
from web.body_limit import allows_body
from web.database import commits_work, db, runtime
from web.identities import request_agent_names, training_rules
from web.same_site import in_browser_session, refuse_cross_site

bp = Blueprint("recordings_api", __name__, url_prefix="/api/v1")

# What `?download` may say (in any letter case): a file, or a play.
_DOWNLOAD_VALUES = {"1": True, "true": True, "0": False, "false": False}


class IngestForm(BaseModel):
    """multipart/form-data: the audio file and its metadata (JSON, see IngestMetadata)."""

    audio: bytes
    metadata: ingest.IngestMetadata


class IngestedRecording(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    sha256: str
    duration_s: float
    codec: str
    sample_rate: int
    channels: int
    retain_until: IsoDatetime | None = Field(
        default=None,
        description="when the retention sweep deletes the call (unless a hold keeps it): an old call imported late may "
        "have days or hours left",
    )
    already_ingested: bool = Field(
        default=False, description="true (200): the call was stored already, with the same audio; nothing was changed"
    )
    metadata_not_applied: list[str] = Field(
        default_factory=list,
        description="sent again: the metadata fields sent otherwise than the stored call has them, which were not "
        "applied (a correction is a rectification)",
    )


class RecordingDetailOut(RecordingOut):
    transcription: TranscriptionStatus | None = Field(description="absent until the call is queued")


class RecordingPageOut(BaseModel):
    items: list[RecordingOut]
    next_cursor: str | None


class PlaybackOut(BaseModel):
    url: str = Field(description="the audio URL with its ticket; ranges of it may be fetched until expires_at")
    expires_at: IsoDatetime


class DeletionOut(BaseModel):
    """A deleted recording: its id and when it was deleted, nothing else (no reason, no customer)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    deleted_at: IsoDatetime = Field(description="what deleted_from and deleted_to compare")


class DeletionPageOut(BaseModel):
    items: list[DeletionOut]
    next_cursor: str | None


class DeletionQuery(DeletionWindow):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=recordings.MAX_PAGE)


class AudioQuery(BaseModel):
    download: str = Field(
        default="0",
        description="1 (or true): the file to save, audited as a download; any letter case",
        json_schema_extra={"enum": list(_DOWNLOAD_VALUES)},
    )
    ticket: str | None = Field(
        default=None, description="the playback ticket a browser session plays with (`POST …/playback` gives the URL)"
    )


class RecordingQuery(RecordingFilters):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=recordings.MAX_PAGE)


def recording_out(recording: Recording) -> RecordingOut:
    """The recording as this principal may see it: the customer ref and the telephony system's call id (which leads
    to the caller's number there) only with `customer.read`, the agent's ref only with `agent.read` (trainers see
    the agent's pseudonym, unless the settings show agents)."""
    hidden: dict[str, Any] = {}
    if not current_can(Permission.CUSTOMER_READ):
        hidden["customer_ref"] = hidden["external_call_id"] = None
    if not current_can(Permission.AGENT_READ):
        hidden["agent_ref"] = request_agent_names()(recording.agent_ref)
    shown = RecordingOut.model_validate(recording)
    return shown.model_copy(update=hidden) if hidden else shown


def refuse_identity_filters(*, customer_ref: str | None = None, agent_ref: str | None = None) -> None:
    """Filtering by customer or agent would tell who they were: refused without `customer.read` / `agent.read`."""
    if customer_ref is not None and not current_can(Permission.CUSTOMER_READ):
        refusal = denial(object_type="customer", object_id=None)
        raise Forbidden("filtering by customer_ref is not permitted to your role", refusal=refusal)
    if agent_ref is not None and not current_can(Permission.AGENT_READ):
        refusal = denial(object_type="agent", object_id=None)
        raise Forbidden("filtering by agent_ref is not permitted to your role", refusal=refusal)


# ---------------------------------------------------------------- ingest


@bp.post("/recordings")
@allows_body(lambda settings: settings.max_upload_bytes + ENVELOPE_BYTES)
@requires(Permission.RECORDING_INGEST)
@api_spec.validate(
    form=IngestForm,
    headers=ChecksumHeaders,  # declared, not validated: the view compares them with the audio
    resp=SpecResponse(
        HTTP_200=IngestedRecording,
        HTTP_201=IngestedRecording,
        HTTP_403=ErrorBody,
        HTTP_409=ErrorBody,
        HTTP_413=ErrorBody,
        HTTP_422=ErrorBody,
    ),
    tags=["recordings"],
    skip_validation=True,  # the body is streamed to disk, not parsed by spectree
)
def ingest_recording() -> tuple[Response, int]:
    """Ingest a finished call. Idempotent on (source, external_call_id): 200 with the same id for
    the same audio, 409 for different audio."""
    rt = runtime()
    upload = receive_upload(rt.settings.max_upload_bytes)
    try:
        verify_client_checksums(upload.audio)
        metadata = ingest.parse_metadata(upload.metadata)
        principal = current_principal()
        ingest.check_source(metadata, actor=current_actor(), token_source=principal.source if principal else None)
        result = ingest.ingest_recording(
            db(),
            rt.store,
            rt.envelope,
            settings=rt.settings,
            actor=current_actor(),
            audio_path=upload.audio.path,
            metadata=metadata,
            sha256=upload.audio.sha256,
        )
        db().commit()
    finally:
        upload.audio.discard()
    body = IngestedRecording.model_validate(result.recording).model_copy(
        update={
            "already_ingested": not result.created,
            "metadata_not_applied": list(result.metadata_not_applied),
            "sha256": result.recording.sha256_at_ingest,  # the audio sent, also once card data was muted since
        }
    )
    return jsonify(body.model_dump(mode="json")), 201 if result.created else 200


# ---------------------------------------------------------------- read


@bp.get("/recordings")
@requires(Permission.RECORDING_LIST)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=RecordingPageOut, HTTP_422=ErrorBody), tags=["recordings"], before=refuse_invalid
)
def list_recordings(query: RecordingQuery) -> Response:
    """Recordings, newest first; pass `next_cursor` back as `cursor` for the next page."""
    refuse_identity_filters(customer_ref=query.customer_ref, agent_ref=query.agent_ref)
    page = recordings.browse_recordings(
        db(),
        actor=current_actor(),
        filters=RecordingFilters.model_validate(query.model_dump(exclude={"cursor", "limit"})),
        cursor=query.cursor,
        limit=query.limit,
    )
    # The audited read commits before the page names agents: a trainer's first sight of one makes the pseudonym
    # key in a session of its own, which on SQLite would wait for this one's write lock until it gave up (500).
    db().commit()
    body = RecordingPageOut(items=[recording_out(item) for item in page.items], next_cursor=page.next_cursor)
    return jsonify(body.model_dump(mode="json"))


@bp.get("/deletions")
@requires(Permission.RECORDING_LIST)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=DeletionPageOut, HTTP_422=ErrorBody), tags=["recordings"], before=refuse_invalid
)
def list_deletions(query: DeletionQuery) -> Response:
    """Deleted recordings (erased, or past their retention), oldest deletion first, each its id and `deleted_at` only:
    what a sync job removes from its copy. A call restricted or kept by an erasure before it went is listed too (it
    may have been copied before it was hidden). Pass `next_cursor` back as `cursor`."""
    page = browse_deletions(
        db(),
        actor=current_actor(),
        window=DeletionWindow.model_validate(query.model_dump(exclude={"cursor", "limit"})),
        cursor=query.cursor,
        limit=query.limit,
    )
    db().commit()
    body = DeletionPageOut(
        items=[DeletionOut.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )
    return jsonify(body.model_dump(mode="json"))


@bp.get("/recordings/<recording_id>")
@requires(Permission.RECORDING_LIST)
@api_spec.validate(resp=SpecResponse(HTTP_200=RecordingDetailOut, HTTP_404=ErrorBody), tags=["recordings"])
def get_recording(recording_id: str) -> Response:
    """One recording's metadata (audited: it names the customer and the agent)."""
    recording = recordings.read_recording(db(), actor=current_actor(), recording_id=recording_id)
    transcription = transcription_status(db(), recording)
    db().commit()  # before naming the agent, as the list does
    detail = RecordingDetailOut(**recording_out(recording).model_dump(), transcription=transcription)
    return jsonify(detail.model_dump(mode="json"))


def original_tag(recording: Recording) -> str:
    """The entity tag of the stored original: its hash changes with its bytes, and a PCI replacement gives it
    a new key and hash too (the tag is a hash of them: neither shows through)."""
    return entity_tag("original", recording.id, recording.storage_key, recording.sha256, recording.size_bytes)


def redacted_tag(audio: RedactedAudio, *, tone: bool) -> str:
    """The entity tag of a recording's redacted audio: what its cached copy is made from (the original's hash
    and key, the muted spans, mute or tone) and the copy's size, any of which changing makes another copy."""
    original = audio.recording
    return entity_tag("redacted", original.id, original.storage_key, original.sha256, audio.spans, tone, audio.size)


def playback_url(ticket: playback.Ticket, recording_id: str) -> str:
    return url_for("recordings_api.recording_audio", recording_id=recording_id, ticket=ticket.token)


@bp.post("/recordings/<recording_id>/playback")
@requires(Permission.RECORDING_PLAY)
@api_spec.validate(resp=SpecResponse(HTTP_200=PlaybackOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody), tags=["recordings"])
def start_playback(recording_id: str) -> Response:
    """A playback ticket: the audio URL a browser player fetches (its ranges too) until `expires_at` (audited)."""
    ticket = playback.issue_ticket(
        db(), actor=current_actor(), recording_id=recording_id, secret_key=runtime().settings.secret_key
    )
    db().commit()
    body = PlaybackOut(url=playback_url(ticket, recording_id), expires_at=ticket.expires_at)
    return jsonify(body.model_dump(mode="json"))


@bp.get("/recordings/<recording_id>/audio")
@requires(Permission.RECORDING_PLAY)
@api_spec.validate(
    query=AudioQuery,
    headers=RangeHeaders,
    resp=FileAnswer(*RECORDING_MEDIA_TYPES, ranges=True, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=["recordings"],
    skip_validation=True,  # the view reads its parameters itself, and the answer is streamed
)
def recording_audio(recording_id: str) -> Response:
    """The original audio, decrypted; supports single byte ranges. `?download=1` asks for a file.

    A browser session plays with the `ticket` from the call page or `POST …/playback`; every answer that
    carries bytes is audited with its range (plays at most once per recording, principal and minute).
    """
    download = _download_asked()
    if download and not current_can(Permission.RECORDING_DOWNLOAD):
        refusal = denial(object_type="recording", object_id=recording_id)
        raise Forbidden("downloading recordings is not permitted", refusal=refusal)
    refuse_cross_site(object_type="recording", object_id=recording_id)
    actor = current_actor()
    recording = recordings.get_playable_recording(db(), actor=actor, recording_id=recording_id)
    rt = runtime()
    if not download and in_browser_session():
        playback.check_ticket(
            actor=actor, recording_id=recording.id, ticket=request.args.get("ticket"), secret_key=rt.settings.secret_key
        )
    etag = original_tag(recording)
    span = requested_span(recording.size_bytes, etag=etag)
    if span is not None and serves_bytes():
        playback.record_audio_served(
            db(), actor=actor, recording=recording, download=download, start=span.start, stop=span.stop
        )
    db().commit()
    response = ranged_response(
        recording.size_bytes,
        recordings.media_type(recording),
        lambda start, stop: originals.original_bytes(rt.store, rt.envelope, recording, start=start, stop=stop),
        etag=etag,
    )
    if download:
        extension = format_of(recording.container).extension
        response.headers["Content-Disposition"] = f'attachment; filename="{recording.id}.{extension}"'
    return response


def _download_asked() -> bool:
    """Whether `?download` asks for a file. Any other value is refused: read as a play, `?download=yes` fetched the
    whole file again and again with one `recording.played` a minute in the trail, not a `recording.downloaded` each."""
    raw = request.args.get("download", "0").strip().lower()
    if raw not in _DOWNLOAD_VALUES:
        raise Invalid("download", "give 1 (or true) to download the file, 0 (or false) to play", code="invalid_choice")
    return _DOWNLOAD_VALUES[raw]


@bp.get("/recordings/<recording_id>/audio/redacted")
@requires(Permission.RECORDING_PLAY_REDACTED)
@api_spec.validate(
    headers=RangeHeaders,
    resp=FileAnswer(*RECORDING_MEDIA_TYPES, ranges=True, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody),
    tags=["recordings"],
    skip_validation=True,  # the answer is streamed
)
def redacted_recording_audio(recording_id: str) -> Response:
    """The audio with every redacted finding muted on every channel (made on first use); single byte ranges."""
    refuse_cross_site(object_type="recording", object_id=recording_id)
    rt = runtime()
    tone = rt.settings.redaction_audio == "tone"
    actor = current_actor()
    require_trainer_may_use(db(), actor=actor, recording_id=recording_id, rules=training_rules())
    audio = redacted_audio(
        db(),
        rt.store,
        rt.envelope,
        actor=actor,
        recording_id=recording_id,
        ffmpeg=rt.settings.ffmpeg_path(),
        tone=tone,
        audited=False,  # the bytes this answer carries are audited below
        cache=commits_work(),  # a HEAD keeps nothing, so it stores nothing
    )
    etag = redacted_tag(audio, tone=tone)
    span = requested_span(audio.size, etag=etag)
    if span is not None and serves_bytes():
        record_redacted_served(db(), actor=actor, audio=audio, start=span.start, stop=span.stop)
    db().commit()
    return ranged_response(
        audio.size,
        audio.media_type,
        lambda start, stop: redacted_bytes(rt.store, rt.envelope, audio, start=start, stop=stop),
        etag=etag,
    )
