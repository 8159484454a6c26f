"""Ingest: validate a call's metadata, probe its audio, store the original encrypted, insert its row.

The object is uploaded before the row is inserted and the caller commits afterwards, so a crash leaves
at most an object without a row, which `reconcile` removes; never a row without its object.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.account_names import first_invisible, invisible_refused
from recordings_service.audio.probe import AudioInfo, probe_audio
from recordings_service.audit import Actor, record_event
from recordings_service.calls.ingest_duties import Duties, duties_named, duties_of_new_call
from recordings_service.calls.resent import metadata_not_applied
from recordings_service.config import Settings
from recordings_service.customers import lock_customer, register_customer
from recordings_service.db import NUL_CODE, new_id, utcnow
from recordings_service.errors import Conflict, FieldError, Forbidden, Invalid, Refusal, invalid_from
from recordings_service.iso_input import Moment
from recordings_service.json_keys import DuplicateKey, unique_keys
from recordings_service.models import Recording
from recordings_service.models.recording import Purpose, RecordingStatus
from recordings_service.recordings import Language
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.originals import SealedOriginal, store_original
from recordings_service.storage.spool import file_sha256
from recordings_service.transcription.queue import enqueue_transcription
from recordings_service.utf8_text import not_utf8_at

logger = logging.getLogger(__name__)

# Telephony clocks drift; a call that "starts" a little in the future is skew, not a lie.
CLOCK_SKEW = timedelta(minutes=5)
MAX_METADATA_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"

# Names (source, queue, agent, customer) are matched exactly everywhere after: spaces around one are a sender's
# padding, not part of the name.
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class IngestMetadata(BaseModel):
    """What the telephony system tells about a call; JSON with strict types and no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    source: Text100
    external_call_id: Annotated[str, Field(min_length=1, max_length=200)]
    started_at: Moment
    direction: Literal["inbound", "outbound"]
    queue: Text100
    agent_ref: Text100
    customer_ref: Text100 | None = None
    language: Language
    channel_layout: Literal["mono", "stereo"]
    agent_channel: Literal["left", "right"] | None = Field(default=None, validate_default=True)
    notice_given: bool
    agreement_made: bool | None = None
    purposes: Annotated[list[Purpose], Field(min_length=1, max_length=len(Purpose))] | None = None

    @field_validator("started_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > utcnow() + CLOCK_SKEW:
            raise PydanticCustomError(
                "future",
                f"the call cannot start in the future: more than {CLOCK_SKEW.seconds // 60} minutes ahead of this "
                "server's clock (check the telephony system's clock and the offset it gives)",
            )
        return value

    @field_validator("started_at")
    @classmethod
    def _has_a_utc_equivalent(cls, value: datetime) -> datetime:
        # 0001-01-01T00:00+02:00 (a .NET DateTime.MinValue in local time) falls in year 0 in UTC, where every time
        # is stored: its insert overflowed (a 500, and in the inbox a job failing on it every run).
        try:
            value.astimezone(UTC)
        except OverflowError:
            message = "the moment is out of range: in UTC it falls outside the years 1 to 9999"
            raise PydanticCustomError("out_of_range", message) from None
        return value

    @field_validator("source", "external_call_id", "queue", "agent_ref", "customer_ref")
    @classmethod
    def _one_line_of_visible_text(cls, value: str | None) -> str | None:
        # A line break, a tab or an escape sequence in an id reached the call list, CSV exports and a terminal's
        # `tokens list` as sent. A NUL the database refuses too, but too late for a source: one was compared with the
        # token's first, and that refusal's audit event, which carries it, then failed to be written (a 500).
        character = first_invisible(value) if value is not None else None
        if character is not None:
            raise PydanticCustomError(NUL_CODE, invisible_refused(character, what="a call's identifier"))
        return value

    @field_validator("external_call_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # Kept as sent (it is the retry key of calls already stored), but spaces alone identify no call.
        if not value.strip():
            raise PydanticCustomError("blank", "the telephony system's call id cannot be blank")
        return value

    @field_validator("purposes")
    @classmethod
    def _distinct(cls, value: list[Purpose] | None) -> list[Purpose] | None:
        if value is not None and len(set(value)) != len(value):
            raise PydanticCustomError("duplicate", "each purpose may be given once")
        return value

    @field_validator("agent_channel")
    @classmethod
    def _fits_layout(cls, value: str | None, info: ValidationInfo) -> str | None:
        layout = info.data.get("channel_layout")
        if layout == "stereo" and value is None:
            raise PydanticCustomError("agent_channel_required", "a stereo layout names the agent_channel")
        if layout == "mono" and value is not None:
            raise PydanticCustomError("agent_channel_unexpected", "a mono layout has no agent_channel")
        return value


def parse_metadata(raw: bytes | str) -> IngestMetadata:
    """The metadata document, or `Invalid` naming the first bad field and listing every one in `errors`."""
    if len(raw) > MAX_METADATA_BYTES:
        raise _whole_metadata(f"metadata is limited to {MAX_METADATA_BYTES} bytes", code="too_large")
    # Windows tools (Notepad, PowerShell's UTF8 encoding) begin a file with a byte order mark, which RFC 8259 lets a
    # parser ignore; refused, a sidecar that looked right in any editor was "Invalid JSON at line 1 column 1".
    raw = raw.removeprefix(UTF8_BOM) if isinstance(raw, bytes) else raw.removeprefix(UTF8_BOM.decode())
    if isinstance(raw, bytes) and (where := not_utf8_at(raw)) is not None:
        # JSON's parser said "invalid unicode code point", which sent the sender looking for a typing error.
        message = f"the metadata is not UTF-8 text ({where}); send it encoded in UTF-8"
        raise _whole_metadata(message, code="invalid_json")
    try:
        json.loads(raw, object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise exc.refusal() from None
    except (ValueError, RecursionError):
        pass  # pydantic's parser, below, says what is wrong with the text, and where
    try:
        return IngestMetadata.model_validate_json(raw)
    except ValidationError as exc:
        located = invalid_from(exc, every=True)
        # A document that is not a JSON object at all is the metadata part's fault, not a field's.
        if located.code in {"invalid_json", "model_type"} or located.field == "body":
            raise _whole_metadata(located.message, code=located.code) from None
        raise located from None


def _whole_metadata(message: str, *, code: str) -> Invalid:
    return Invalid("metadata", message, code=code, errors=[FieldError(field="metadata", code=code, message=message)])


def purposes_for(settings: Settings, queue: str) -> list[str]:
    """The purposes of a queue's calls when the client names none (`queue_purposes`, else the default)."""
    for entry in settings.queue_purposes.split(";"):
        name, _, purposes = entry.partition("=")
        if name.strip() == queue:
            return _purpose_list(purposes)
    return _purpose_list(settings.default_purposes)


def _purpose_list(text: str) -> list[str]:
    names = [part.strip() for part in text.replace(",", "+").split("+") if part.strip()]
    return [Purpose(name).value for name in names]


def original_key(recording_id: str, *, at: datetime) -> str:
    return f"originals/{at.year:04d}/{at.month:02d}/{recording_id}"


@dataclass(frozen=True)
class IngestResult:
    recording: Recording
    created: bool  # False when the same call was already ingested with the same bytes
    metadata_not_applied: tuple[str, ...] = ()  # sent again: the fields sent otherwise than stored (`calls.resent`)


def check_source(metadata: IngestMetadata, *, actor: Actor, token_source: str | None) -> None:
    """An ingest token ingests only for the source it was issued for; a token issued before tokens named
    their source ingests for none (nothing records which system it was handed to)."""
    if token_source is not None and metadata.source == token_source:
        return
    if token_source is None:
        reason = "token_without_source"
        message = "this token names no source; ingest with a token made by `callvault tokens create … --source`"
    else:
        reason, message = "other_source", f"this token ingests only for source {token_source!r}"
    details = {"reason": reason, "source": metadata.source}
    refusal = Refusal(actor, "recording.ingest_refused", "recording", None, details)
    raise Forbidden(message, refusal=refusal, field="source")


def ingest_recording(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    settings: Settings,
    actor: Actor,
    audio_path: Path,
    metadata: IngestMetadata,
    sha256: str | None = None,
) -> IngestResult:
    """Ingest one call; idempotent on (source, external_call_id) for the same bytes, a conflict otherwise."""
    digest = sha256 or file_sha256(audio_path)
    existing = _existing(session, metadata)
    if existing is not None:
        return _repeat(existing, digest, metadata)
    info = probe_audio(
        audio_path,
        max_duration_s=settings.max_audio_duration_s,
        timeout_s=settings.probe_timeout_s,
        memory_limit_bytes=settings.probe_memory_bytes,
    )
    _check_layout(metadata, info)

    recording_id = new_id()
    key = original_key(recording_id, at=utcnow())
    sealed = store_original(
        store, envelope, settings=settings, audio_path=audio_path, key=key, recording_id=recording_id
    )
    try:
        recording, duties = _insert(
            session,
            settings=settings,
            metadata=metadata,
            info=info,
            recording_id=recording_id,
            key=key,
            sha256=digest,
            size=audio_path.stat().st_size,
            sealed=sealed,
        )
    except IntegrityError:
        # A concurrent ingest of the same call committed first: ours becomes an orphan, removed now.
        store.delete(key)
        winner = _existing(session, metadata)
        if winner is None:
            raise
        return _repeat(winner, digest, metadata)
    except BaseException:
        store.delete(key)
        raise
    enqueue_transcription(session, recording, new=True)
    record_event(
        session,
        actor=actor,
        action="recording.ingested",
        object_type="recording",
        object_id=recording.id,
        details={
            "size_bytes": recording.size_bytes,
            "duration_s": recording.duration_s,
            "codec": recording.codec,
            **duties_named(session, recording, duties),
        },
    )
    return IngestResult(recording=recording, created=True)


def _existing(session: Session, metadata: IngestMetadata) -> Recording | None:
    return session.scalar(
        select(Recording).where(
            Recording.source == metadata.source, Recording.external_call_id == metadata.external_call_id
        )
    )


def _repeat(existing: Recording, sha256: str, metadata: IngestMetadata) -> IngestResult:
    # A PCI replacement re-hashes the stored copy; the caller's retry still carries the original audio.
    if existing.sha256_at_ingest != sha256:
        raise Conflict(
            f"call {existing.external_call_id} from {existing.source} was already ingested with different audio",
            field="external_call_id",
        )
    # A deleted call keeps none of what was sent (its customer link went with it): nothing to compare.
    not_applied = () if existing.status == RecordingStatus.DELETED else tuple(metadata_not_applied(existing, metadata))
    return IngestResult(recording=existing, created=False, metadata_not_applied=not_applied)


def _check_layout(metadata: IngestMetadata, info: AudioInfo) -> None:
    expected = 2 if metadata.channel_layout == "stereo" else 1
    if info.channels != expected:
        raise Invalid(
            "channel_layout",
            f"the layout is {metadata.channel_layout} but the audio has {info.channels} channel(s)",
            code="layout_mismatch",
        )


def _insert(
    session: Session,
    *,
    settings: Settings,
    metadata: IngestMetadata,
    info: AudioInfo,
    recording_id: str,
    key: str,
    sha256: str,
    size: int,
    sealed: SealedOriginal,
) -> tuple[Recording, Duties]:
    """Insert the customer (if new) and the recording inside a savepoint, so a lost race can be undone; the duties it
    came in under."""
    purposes = [p.value for p in metadata.purposes] if metadata.purposes else purposes_for(settings, metadata.queue)
    with session.begin_nested():
        # Writing first matters on SQLite: a transaction that starts with a write waits for the lock,
        # while one that read first fails outright when another writer committed in between.
        customer_id = register_customer(session, metadata.customer_ref) if metadata.customer_ref else None
        if customer_id is not None:
            # Before reading the customer's holds and restrictions: one being placed meanwhile then covers this call.
            lock_customer(session, customer_id, share=True)
        duties = duties_of_new_call(
            session,
            settings=settings,
            customer_id=customer_id,
            started_at=metadata.started_at,
            purposes=purposes,
            agreement_made=metadata.agreement_made,
        )
        recording = Recording(
            id=recording_id,
            source=metadata.source,
            external_call_id=metadata.external_call_id,
            started_at=metadata.started_at,
            duration_s=info.duration_s,
            direction=metadata.direction,
            queue=metadata.queue,
            agent_ref=metadata.agent_ref,
            customer_id=customer_id,
            language=metadata.language,
            channels=info.channels,
            agent_channel=metadata.agent_channel,
            container=info.container,
            codec=info.codec,
            sample_rate=info.sample_rate,
            size_bytes=size,
            sha256=sha256,
            storage_key=key,
            storage_version_id=sealed.version_id,
            wrapped_data_key=sealed.wrapped_data_key,
            master_key_id=sealed.master_key_id,
            notice_given=metadata.notice_given,
            agreement_made=metadata.agreement_made,
            status=RecordingStatus.STORED,
            purposes=purposes,
            retain_until=duties.retain_until,
            legal_hold=duties.legal_hold,
            restricted=duties.restricted,  # Art. 18 covers later calls too
        )
        if duties.erasure_kept:  # set only then: an insert names no column it does not set (`Recording`)
            recording.erasure_kept = True
        session.add(recording)
        session.flush()
    return recording, duties
