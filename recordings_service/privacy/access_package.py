"""What an access package (GDPR Art. 15) holds, and writing it: a ZIP streamed to a file, then sealed.

Every recording of the customer, restricted ones included (it is the subject's own data), each as its
audio decrypted in its original format, its transcript as kept, its metadata with purposes and retention
dates, and the corrections made to it; the recipients; a README; and a manifest with the SHA-256 of every
file. Recordings are loaded through `recordings.list_recordings` / `get_playable_recording` as a compliance
actor, one at a time, so nothing of another customer can enter and no transaction is held while audio is
copied.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audio.formats import format_of
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import NotFound
from recordings_service.models import (
    Annotation,
    CallTag,
    Customer,
    Nomination,
    Recording,
    SubjectRequest,
    TrainingClip,
    Transcript,
)
from recordings_service.models.account import Role
from recordings_service.models.privacy import RetentionRule
from recordings_service.models.recording import RecordingStatus
from recordings_service.models.research import ClosedReason
from recordings_service.originals import open_original
from recordings_service.privacy.access_readme import README
from recordings_service.privacy.holds import is_held
from recordings_service.privacy.rectification import corrections_of
from recordings_service.privacy.retention import (
    agreement_evidence_until,
    applicable_rules,
    erasures_keeping,
    list_policies,
    load_policies,
)
from recordings_service.recordings import (
    MAX_PAGE,
    RecordingFilters,
    RecordingOut,
    get_playable_recording,
    list_recordings,
)
from recordings_service.research.custody import customer_custody
from recordings_service.research.lifecycle import first_served_at
from recordings_service.storage.encryption import CHUNK, Envelope, WrappedKey
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.transcripts import as_text, open_view, transcript_document
from recordings_service.zip_dates import dated_entry

log = logging.getLogger(__name__)
# The package is the subject's own data: a compliance actor sees restricted recordings too.
SUBJECT_ACCESS_ACTOR = Actor(id=None, name="subject-access", role=Role.COMPLIANCE)
MANIFEST = "manifest.json"

# Why a call its customer's erasure kept is still held (Art. 17(3)); the grounds as `erasure` names them.
HOLD_BASIS = (
    "GDPR Art. 17(3)(e): the call is on legal hold, needed for the establishment, exercise or defence of legal "
    "claims; it is deleted when the hold is released"
)
EVIDENCE_BASIS = (
    "GDPR Art. 17(3)(b) and (e): the call is evidence of an agreement made on it, kept for the verification period only"
)
KEPT_NOTE = (
    "You asked for your recordings to be erased. This call was kept for the grounds listed here only, and only the "
    "periods listed here apply to it: it is no longer used for its other purposes, and it is deleted when these "
    "grounds end."
)
GONE_NOTE = (
    "You asked for your recordings to be erased. The ground that kept this call has ended: it is deleted at the "
    "next retention run."
)


@dataclass(frozen=True)
class PackageEntry:
    """One recording's part of the package: its row (for the audio) and its documents, read in one session."""

    recording: Recording
    documents: dict[str, bytes]
    audio: bool = True  # False when the original is missing from the store: the documents are still the subject's


@dataclass
class PackageContents:
    """What was written: every file's SHA-256, the recordings in it, and any audio that failed its hash."""

    files: dict[str, str] = field(default_factory=dict)
    recording_ids: list[str] = field(default_factory=list)
    audio_mismatches: list[str] = field(default_factory=list)
    audio_missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SealedPackage:
    key: str
    sha256: str  # of the ZIP as the subject receives it
    size: int
    wrapped: WrappedKey


def package_key(request_id: str) -> str:
    return f"subject-access/{request_id}/package.zip"


def package_recording_ids(session: Session, *, customer_ref: str) -> list[str]:
    """Every recording of the customer, restricted ones included, oldest call last (as lists show them)."""
    ids: list[str] = []
    cursor = None
    filters = RecordingFilters(customer_ref=customer_ref)
    while True:
        page = list_recordings(session, actor=SUBJECT_ACCESS_ACTOR, filters=filters, cursor=cursor, limit=MAX_PAGE)
        ids.extend(recording.id for recording in page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def package_recipients(session: Session, *, customer_id: str) -> list[dict[str, Any]]:
    """The research institutes the customer's calls were disclosed to (Art. 15(1)(c)), batch by batch."""
    recipients: dict[str, dict[str, Any]] = {}
    for record in customer_custody(session, customer_id):
        if record.built_at is None or record.withdrawn_reason is not None:
            continue  # never packaged, or left out of the package: nothing was disclosed
        if record.closed_reason == ClosedReason.NEVER_DOWNLOADED:
            continue  # the window ended with nothing fetched: the institute never received it
        entry = recipients.get(record.batch_id)
        if entry is None:
            # Built is not yet received: the institute may download it until `access_until` (Art. 15(1)(c): the
            # recipients the data "have been or will be disclosed" to). It read as received from its build on.
            served = first_served_at(session, record.batch_id)
            entry = recipients[record.batch_id] = {
                "recipient": record.institute,
                "country": record.country,
                "study": record.study,
                "disclosed_at": None if served is None else served.isoformat(),
                "access_until": record.access_end.isoformat(),
                "study_end": record.study_end.isoformat(),
                "custody": record.state,
                "recordings": [],
            }
        entry["recordings"].append(record.recording_id)
    return list(recipients.values())


def _recipients_note(recipients: list[dict[str, Any]]) -> str:
    if not recipients:
        return "No recording of yours has been disclosed to a research partner or any other recipient."
    return (
        "These research institutes received the listed recordings, pseudonymised, for service-quality studies, "
        "under a processing agreement that obliges them to return or destroy every copy when the study ends "
        "(custody `closed` means that was confirmed). Where `disclosed_at` is null, the institute has not "
        "downloaded them yet: it may do so until `access_until`."
    )


def package_entry(session: Session, *, recording_id: str, customer_id: str, zone: tzinfo) -> PackageEntry | None:
    """One recording's documents (retention periods counted in `zone`); None when it is deleted or no longer the
    customer's. A recording whose original is missing from the store keeps its metadata and transcript, which are
    the subject's data all the same."""
    try:
        recording = get_playable_recording(session, actor=SUBJECT_ACCESS_ACTOR, recording_id=recording_id, audio=False)
    except NotFound:  # deleted since the list was read
        return None
    if recording.customer_id != customer_id or recording.status == RecordingStatus.DELETED:
        return None
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).first()
    folder = f"recordings/{recording.id}"
    documents = {f"{folder}/metadata.json": _json(_metadata(session, recording, zone=zone))}
    if transcript is not None:
        view = open_view(session, transcript, redacted=False)  # the subject's own words, as kept
        documents[f"{folder}/transcript.json"] = _json(transcript_document(view))
        documents[f"{folder}/transcript.txt"] = as_text(view).encode()
    return PackageEntry(
        recording=recording, documents=documents, audio=recording.status != RecordingStatus.MISSING_OBJECT
    )


def write_package(
    store: ObjectStore,
    envelope: Envelope,
    *,
    request: SubjectRequest,
    customer: Customer,
    recipients: list[dict[str, Any]],
    history: dict[str, Any],
    entries: Iterable[PackageEntry],
    destination: BinaryIO,
    zone: tzinfo,
    on_recording: Callable[[int], None] | None = None,
) -> PackageContents:
    """Stream the package ZIP into `destination`: audio as stored bytes, documents compressed, manifest last.

    Each call's audio is dated when the call started, the documents when the package was made, as the clocks in
    `zone` (the organisation's, the customer's) showed it (`zip_dates`)."""
    contents = PackageContents()
    generated = utcnow()

    def add(name: str, body: bytes) -> None:
        package.writestr(dated_entry(name, generated, zone, compress_type=zipfile.ZIP_DEFLATED), body)
        contents.files[name] = hashlib.sha256(body).hexdigest()

    with zipfile.ZipFile(destination, "w", allowZip64=True) as package:
        add("README.txt", README.encode())
        for entry in entries:
            recording = entry.recording
            if entry.audio:
                name = f"recordings/{recording.id}/audio.{format_of(recording.container).extension}"
                # Stored as it is: audio is compressed already, or large and incompressible enough.
                audio = dated_entry(name, recording.started_at, zone, compress_type=zipfile.ZIP_STORED)
                digest = _add_audio(package, audio, store, envelope, recording)
                contents.files[name] = digest
                if digest != recording.sha256:
                    contents.audio_mismatches.append(recording.id)
                    log.warning("subject access audio hash differs", extra={"recording": recording.id})
            else:
                contents.audio_missing.append(recording.id)
            for document, body in entry.documents.items():
                add(document, body)
            contents.recording_ids.append(recording.id)
            if on_recording is not None:
                on_recording(len(contents.recording_ids))
        add("recipients.json", _json({"recipients": recipients, "note": _recipients_note(recipients)}))
        add("history.json", _json(history))
        subject = {
            "request_id": request.id,
            "customer_ref": customer.customer_ref,
            "received_at": request.received_at.isoformat(),
            "objects_to_research": customer.objects_to_research,
            "objects_to_marketing": customer.objects_to_marketing,
        }
        add("request.json", _json(subject))
        manifest = {
            **subject,
            "generated_at": generated.isoformat(),
            "recordings": contents.recording_ids,
            "audio_sha256_mismatches": contents.audio_mismatches,
            "audio_missing": contents.audio_missing,
            "files": dict(contents.files),
        }
        package.writestr(dated_entry(MANIFEST, generated, zone, compress_type=zipfile.ZIP_DEFLATED), _json(manifest))
    return contents


def seal_package(
    store: ObjectStore, envelope: Envelope, *, request_id: str, plaintext: Path, work_dir: Path
) -> SealedPackage:
    """Hash the ZIP, encrypt it under a data key of its own, and upload it to its key."""
    digest = hashlib.sha256()
    size = 0
    with plaintext.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    sealed = work_dir / "package.zip.enc"
    with plaintext.open("rb") as source, sealed.open("wb") as destination:
        wrapped = envelope.encrypt(source, destination, object_id=request_id)
    key = package_key(request_id)
    with sealed.open("rb") as upload:
        store.put(key, upload)
    return SealedPackage(key=key, sha256=digest.hexdigest(), size=size, wrapped=wrapped)


def _metadata(session: Session, recording: Recording, *, zone: tzinfo) -> dict[str, Any]:
    corrections = [
        {
            "field": correction.field,
            "segment": correction.segment,
            "previous": correction.previous,
            "value": correction.value,
            "corrected_at": correction.corrected_at.isoformat(),
        }
        for correction in corrections_of(session, recording_id=recording.id)
    ]
    return {
        # The agent's reference is the agent's personal data, not the subject's (Art. 15(4)); research and
        # training pseudonymise it, and a copy handed outside the organisation leaves it out.
        **RecordingOut.model_validate(recording).model_dump(mode="json", exclude={"agent_ref"}),
        "retention": _retention(session, recording, zone=zone),
        "corrections": corrections,
        **_staff_notes(session, recording),
    }


def _staff_notes(session: Session, recording: Recording) -> dict[str, Any]:
    """What staff wrote on the call (Art. 15: what they noted about it is the subject's data too): comments at
    moments of the call, the call list's tags, and for training its nominations and the clips cut from it (copies
    of the customer's voice, redacted, kept for training: left out before 2026-12-06), without who wrote or cut
    them (their names are staff's data, 15(4)). Evaluations are left out: they assess the agent's work, and are the
    agent's data."""
    comments = session.scalars(
        select(Annotation).where(Annotation.recording_id == recording.id).order_by(Annotation.at_s, Annotation.id)
    )
    tags = session.scalars(select(CallTag.tag).where(CallTag.recording_id == recording.id).order_by(CallTag.key))
    nominations = session.scalars(
        select(Nomination).where(Nomination.recording_id == recording.id).order_by(Nomination.id)
    )
    clips = session.scalars(
        select(TrainingClip)
        .where(TrainingClip.recording_id == recording.id, TrainingClip.removed_at.is_(None))
        .order_by(TrainingClip.id)
    )
    return {
        "comments": [
            {"at_s": comment.at_s, "text": comment.text, "written_at": comment.created_at.isoformat()}
            for comment in comments
        ],
        "tags": list(tags),
        "training": {
            "nominations": [
                {
                    "kind": nomination.kind,
                    "note": nomination.note,
                    "start_s": nomination.start_s,
                    "end_s": nomination.end_s,
                    "written_at": nomination.created_at.isoformat(),
                }
                for nomination in nominations
            ],
            "clips": [
                {
                    "start_s": clip.start_s,
                    "end_s": clip.end_s,
                    "title": clip.title,
                    "tags": list(clip.tags),
                    "notes": clip.notes,
                    "cut_at": clip.created_at.isoformat(),
                }
                for clip in clips
            ],
        },
    }


def _retention(session: Session, recording: Recording, *, zone: tzinfo) -> dict[str, Any]:
    """How long the call is kept and the legal basis of each period that keeps it. A call its customer's erasure
    kept is kept for a legal duty only (`erasure.erase_customer`): it names that ground, and the verification
    period alone where it is evidence of an agreement, not its other purposes' periods, which no longer apply."""
    rules = applicable_rules(recording.purposes, agreement_made=recording.agreement_made)
    kept: dict[str, Any] | None = None
    # The column says whether an erasure kept it; the request that did is looked up for those calls alone.
    erasure_id = erasures_keeping(session, [recording.id]).get(recording.id) if recording.erasure_kept else None
    if erasure_id is not None:
        grounds = []
        if is_held(session, recording):
            grounds.append({"ground": "legal_hold", "basis": HOLD_BASIS, "until": None})
        evidence_until = agreement_evidence_until(recording, policies=load_policies(session), zone=zone, now=utcnow())
        if evidence_until is not None:
            grounds.append(
                {"ground": "agreement_evidence", "basis": EVIDENCE_BASIS, "until": evidence_until.isoformat()}
            )
        rules = {RetentionRule.VERIFICATION} if evidence_until is not None else set()
        kept = {"erasure_request_id": erasure_id, "grounds": grounds, "note": KEPT_NOTE if grounds else GONE_NOTE}
    policies = {policy.rule: policy for policy in list_policies(session)}
    periods = [
        {"rule": rule.value, "keep": policies[rule].keep, "unit": policies[rule].unit, "basis": policies[rule].basis}
        for rule in sorted(rules)
        if rule in policies
    ]
    retention = {
        "retain_until": recording.retain_until.isoformat() if recording.retain_until else None,
        "periods": periods,
    }
    return retention if kept is None else {**retention, "kept_despite_erasure": kept}


def _add_audio(
    package: zipfile.ZipFile, info: zipfile.ZipInfo, store: ObjectStore, envelope: Envelope, recording: Recording
) -> str:
    digest = hashlib.sha256()
    with open_original(store, envelope, recording) as plaintext, package.open(info, "w", force_zip64=True) as out:
        while chunk := plaintext.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode()
