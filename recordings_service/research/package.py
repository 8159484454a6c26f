"""Writing a research package: a ZIP streamed (stream-zip) through SHA-256 and Tink into a private spool file.

The package holds a README (the study, the access window and the duty to return or destroy every copy),
per call `calls/<call pseudonym>/transcript.json` (the redacted twin only) and `audio.<ext>` (the original,
or the redacted derivative), `calls.csv` with the call's pseudonym and the batch's metadata fields, and
`manifest.csv` (path, size, SHA-256 of every file) last. Every member carries the batch's approval time, so
building the same batch again gives the same bytes and the same SHA-256. Each call is checked again just
before it is written (`selection.candidates_among`): one excluded since approval (the customer objected, the
call was restricted or deleted) is withdrawn instead. Calls are loaded one short session at a time by the
caller (`jobs/research.py`); no session is used while audio is copied, and memory stays bounded whatever
the package's size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from stream_zip import ZIP_AUTO, Method, stream_zip

from recordings_service.audio.formats import format_of
from recordings_service.errors import Conflict
from recordings_service.models import BatchItem, Recording, ResearchBatch, Transcript
from recordings_service.originals import open_original
from recordings_service.recordings import get_playable_recording
from recordings_service.redaction.audio import RedactedAudio, open_redacted, redacted_audio
from recordings_service.research.build_queue import SealedPackage, package_key
from recordings_service.research.selection import BUILD_ACTOR, candidates_among, criteria_zone, study_ends_at
from recordings_service.spreadsheets import BYTE_ORDER_MARK, spreadsheet_safe
from recordings_service.storage.aes_gcm_hkdf import EncryptingWriter
from recordings_service.storage.encryption import CHUNK, Envelope, PlaintextReader
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.transcripts import open_view, transcript_document

log = logging.getLogger(__name__)
MODE = 0o600 | stat.S_IFREG
DOCUMENT_LEVEL = 6
AUDIO_LEVEL = 0  # audio is compressed already, or incompressible enough: deflate at stored speed
README = "README.txt"
CALLS_CSV = "calls.csv"
MANIFEST = "manifest.csv"

Member = tuple[str, datetime, int, Method, Iterable[bytes]]


@dataclass(frozen=True)
class PackageSpec:
    """What the whole package needs from its batch, read once."""

    batch_id: str
    study: str
    purpose: str
    institute: str
    agreement_ref: str
    access_start: datetime
    access_end: datetime
    study_end: date
    study_ends: datetime  # when `study_end` ends, in the zone of the batch's criteria (`selection.study_ends_at`)
    # The approval time (fixed, so a rebuild gives the same bytes) in the organisation's zone: stream-zip writes its
    # clock's fields as they are, and whoever unpacks the ZIP reads them as local time (`zip_dates`).
    modified_at: datetime
    redacted: bool
    metadata_fields: tuple[str, ...]
    portal_url: str
    selected: int


@dataclass(frozen=True)
class CallEntry:
    """One call ready to write: its row (for the audio), its redacted transcript and its calls.csv row."""

    item_id: str
    folder: str
    recording: Recording
    redacted: RedactedAudio | None
    transcript: bytes
    row: dict[str, str]

    @property
    def audio_size(self) -> int:
        return self.redacted.size if self.redacted is not None else self.recording.size_bytes


@dataclass(frozen=True)
class Withdrawal:
    item_id: str
    reason: str


@dataclass
class PackageContents:
    """What was written so far: every file's size and SHA-256 in order, and the calls' rows."""

    files: list[tuple[str, int, str]] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)


def package_spec(session: Session, *, batch_id: str, public_url: str, zone: tzinfo) -> PackageSpec:
    """What the build needs of the batch; its files are dated in `zone`, the organisation's (`zip_dates`)."""
    batch = session.get_one(ResearchBatch, batch_id)
    if batch.approved_at is None:
        raise Conflict(f"research batch {batch_id} was never approved")
    return PackageSpec(
        batch_id=batch.id,
        study=batch.study,
        purpose=batch.purpose,
        institute=batch.institute.name,
        agreement_ref=batch.institute.agreement_ref,
        access_start=batch.access_start,
        access_end=batch.access_end,
        study_end=batch.study_end,
        study_ends=study_ends_at(batch.study_end, criteria_zone(batch.criteria)),
        modified_at=batch.approved_at.astimezone(zone),
        redacted=batch.audio == "redacted",
        metadata_fields=calls_csv_columns(batch.metadata_fields),
        portal_url=f"{public_url.rstrip('/')}/partner/batches/{batch.id}",
        selected=batch.selected,
    )


def items_to_write(session: Session, *, batch_id: str) -> list[str]:
    """The ids of the batch's items not withdrawn (by an earlier attempt), in position order."""
    return list(
        session.scalars(
            select(BatchItem.id)
            .where(BatchItem.batch_id == batch_id, BatchItem.withdrawn_reason.is_(None))
            .order_by(BatchItem.position)
        )
    )


def load_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    spec: PackageSpec,
    item_id: str,
    ffmpeg: str,
    tone: bool,
) -> CallEntry | Withdrawal:
    """The item's call checked again against the batch's criteria, ready to write; or why it is withdrawn.

    Redacted audio is made (and cached) here when it is missing. The session is for reading: its caller
    closes it without committing, so the builder's reads are audited once, as `recording.research_exported`
    when the package is finished.
    """
    item = session.get_one(BatchItem, item_id)
    found = candidates_among(
        session,
        actor=BUILD_ACTOR,
        study_ends=spec.study_ends,
        redacted_audio=spec.redacted,
        recording_ids=[item.recording_id],
    )
    if not found:  # deleted or unavailable (and so not a candidate at all)
        recording = session.get(Recording, item.recording_id)
        return Withdrawal(item_id, recording.status if recording is not None else "deleted")
    if found[0].reason is not None:
        return Withdrawal(item_id, found[0].reason.value)
    recording = get_playable_recording(session, actor=BUILD_ACTOR, recording_id=item.recording_id)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    redacted = None
    if spec.redacted:
        # Not audited as a playback: nobody listens, and the build audits what goes out (`finish_build`).
        redacted = redacted_audio(
            session,
            store,
            envelope,
            actor=BUILD_ACTOR,
            recording_id=recording.id,
            ffmpeg=ffmpeg,
            tone=tone,
            audited=False,
        )
    document = transcript_document(open_view(session, transcript, redacted=True))
    return CallEntry(
        item_id=item.id,
        folder=f"calls/{item.call_pseudonym}",
        recording=recording,
        redacted=redacted,
        transcript=json.dumps(document, indent=2, ensure_ascii=False).encode(),
        row=_row(item, recording, spec.metadata_fields),
    )


def package_stream(
    store: ObjectStore,
    envelope: Envelope,
    *,
    spec: PackageSpec,
    calls: Iterable[CallEntry],
    on_call: Callable[[CallEntry, str], None],
) -> Iterable[bytes]:
    """The package ZIP's bytes; `on_call(call, audio_sha256)` runs once each call is written."""
    return stream_zip(package_files(store, envelope, spec=spec, calls=calls, on_call=on_call), chunk_size=CHUNK)


def package_files(
    store: ObjectStore,
    envelope: Envelope,
    *,
    spec: PackageSpec,
    calls: Iterable[CallEntry],
    on_call: Callable[[CallEntry, str], None],
) -> Iterator[Member]:
    """The ZIP's members in order. stream-zip takes a member only once the previous one is written, so
    calls are loaded one at a time, and calls.csv and the manifest see everything before them."""
    contents = PackageContents()
    yield _document(contents, spec, README, readme(spec).encode())
    for call, audio in _opened_ahead(store, envelope, calls):
        yield _document(contents, spec, f"{call.folder}/transcript.json", call.transcript)
        name = f"{call.folder}/audio.{format_of(call.recording.container).extension}"
        yield (
            name,
            spec.modified_at,
            MODE,
            ZIP_AUTO(call.audio_size, level=AUDIO_LEVEL),
            _audio(call, audio, name=name, contents=contents, on_call=on_call),
        )
        contents.rows.append(call.row)
    # With the byte order mark, as every CSV for people to open: without it Excel read "Käyttöönotto" as
    # "KÃ¤yttÃ¶Ã¶notto" (the manifest is for checksum tools, which it would only get in the way of).
    calls_csv = BYTE_ORDER_MARK.encode() + _csv(list(spec.metadata_fields), contents.rows)
    yield _document(contents, spec, CALLS_CSV, calls_csv)
    manifest = [{"path": path, "size": str(size), "sha256": digest} for path, size, digest in contents.files]
    yield _document(contents, spec, MANIFEST, _csv(["path", "size", "sha256"], manifest))


def seal_package(envelope: Envelope, *, batch_id: str, chunks: Iterable[bytes], destination: BinaryIO) -> SealedPackage:
    """Hash the ZIP's bytes and encrypt them into `destination` (closed at the end) under a new data key."""
    digest = hashlib.sha256()
    size = 0
    wrapped, key = envelope.new_data_key(object_id=batch_id)
    with EncryptingWriter(key, destination, batch_id.encode()) as encrypting:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            encrypting.write(chunk)
    return SealedPackage(key=package_key(batch_id), sha256=digest.hexdigest(), size=size, wrapped=wrapped)


def readme(spec: PackageSpec) -> str:
    audio = (
        "the call's audio with every piece of personal data that was said silenced"
        if spec.redacted
        else "the call's audio as it was recorded"
    )
    return f"""Research batch {spec.batch_id}
{"=" * (15 + len(spec.batch_id))}

Study:         {_value(spec.study)}
Purpose:       {_value(spec.purpose)}
Recipient:     {_value(spec.institute)} (agreement {_value(spec.agreement_ref)})
Access window: {_moment(spec.access_start)} to {_moment(spec.access_end)}
Study ends:    {spec.study_end.isoformat()}

What this package holds
- calls/<call>/audio.*: {audio}.
- calls/<call>/transcript.json: the machine transcript, with personal data replaced by [KIND] markers.
- calls.csv: one row per call. Pseudonyms stand in for the call, the customer and the agent; they are
  valid in this batch only and cannot be linked to another batch.
- manifest.csv: the size and SHA-256 checksum of every file, to check that nothing was altered.

Your duties
These calls are personal data, processed for {_inline(spec.institute)} under the agreement above and only for
the study and purpose stated here. Do not try to identify anyone in them, and do not pass them on.
Immediately after the study ends ({spec.study_end.isoformat()}), return or destroy every copy of this
package and of anything made from its audio or transcripts, backups included, and confirm the return
or destruction at {spec.portal_url}

Suomeksi
Tämä tutkimusaineisto ({_inline(spec.study)}) on henkilötietoja, joita saa käyttää vain yllä mainittuun
tutkimukseen ja tarkoitukseen. Älä yritä tunnistaa ketään äläkä luovuta aineistoa eteenpäin.
Palauta tai hävitä kaikki aineiston kopiot, myös varmuuskopiot ja siitä tehdyt työkopiot, heti
tutkimuksen päätyttyä ({spec.study_end.isoformat()}) ja vahvista palautus tai hävittäminen osoitteessa
{spec.portal_url}
"""


def _value(text: str) -> str:
    """A value after its label, its further lines indented under its first: the study's texts are typed by staff,
    and a line of theirs must not read as one of the README's own (a forged duty, another return address)."""
    return "\n               ".join(text.splitlines())


def _inline(text: str) -> str:
    """A value inside a sentence: on one line, whatever line breaks it was typed with."""
    return " ".join(text.split())


def _opened_ahead(
    store: ObjectStore, envelope: Envelope, calls: Iterable[CallEntry]
) -> Iterator[tuple[CallEntry, Future[PlaintextReader]]]:
    """Each call with its audio being opened in the background while the call before it is written: the
    store's time to first byte overlaps the copying instead of adding to it."""
    ahead: tuple[CallEntry, Future[PlaintextReader]] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="research-audio") as opener:
        try:
            for call in calls:
                opening = opener.submit(_open_audio, store, envelope, call)
                if ahead is not None:
                    yield ahead
                ahead = (call, opening)
            if ahead is not None:
                yield ahead
                ahead = None
        finally:
            if ahead is not None:  # the build stopped: close what was opened for nothing
                with suppress(Exception):
                    ahead[1].result().close()


def _audio(
    call: CallEntry,
    audio: Future[PlaintextReader],
    *,
    name: str,
    contents: PackageContents,
    on_call: Callable[[CallEntry, str], None],
) -> Iterator[bytes]:
    digest = hashlib.sha256()
    size = 0
    with audio.result() as plaintext:
        while chunk := plaintext.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            yield chunk
    sha256 = digest.hexdigest()
    contents.files.append((name, size, sha256))
    if call.redacted is None and sha256 != call.recording.sha256:
        log.warning("research audio hash differs", extra={"recording": call.recording.id})
    on_call(call, sha256)


def _open_audio(store: ObjectStore, envelope: Envelope, call: CallEntry) -> PlaintextReader:
    if call.redacted is not None:
        return open_redacted(store, envelope, call.redacted)
    return open_original(store, envelope, call.recording)


def _document(contents: PackageContents, spec: PackageSpec, name: str, body: bytes) -> Member:
    contents.files.append((name, len(body), hashlib.sha256(body).hexdigest()))
    return name, spec.modified_at, MODE, ZIP_AUTO(len(body), level=DOCUMENT_LEVEL), (body,)


def calls_csv_columns(metadata_fields: Iterable[str]) -> tuple[str, ...]:
    """calls.csv's columns: the call's pseudonym first, whatever fields were chosen, as it names the call's folder;
    without it no row could be told apart from another or matched with its audio."""
    return ("call", *(name for name in metadata_fields if name != "call"))


def _row(item: BatchItem, recording: Recording, fields: Iterable[str]) -> dict[str, str]:
    values = {
        "call": item.call_pseudonym or "",  # only a closed batch's are forgotten, and none is built
        "customer": item.customer_pseudonym or "",
        "agent": item.agent_pseudonym or "",
        "started_at": recording.started_at.astimezone(UTC).isoformat(),
        "duration_s": f"{recording.duration_s:.3f}",
        "direction": recording.direction,
        "queue": recording.queue,
        "language": recording.language,
    }
    return {name: values[name] for name in fields}


def _csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    """The rows as CSV, each cell one a spreadsheet will not run as a formula: a queue name is whatever the telephony
    system sent (`=HYPERLINK("https://…?"&A2)` was taken), and the institute opens calls.csv in Excel."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({name: spreadsheet_safe(value) for name, value in row.items()} for row in rows)
    return text.getvalue().encode()


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
