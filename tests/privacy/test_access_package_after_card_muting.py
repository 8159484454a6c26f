"""An access package built before a call's card data was muted (PCI DSS 3.3.1) is built again from the muted
original: the card number read out is kept nowhere, the customer's own package included.

Found by exploratory testing: a package built while the call waited for transcription held the original as ingested;
the transcription then replaced the original by its card-muted copy, but the package, still downloadable for seven
days, kept the card number and security code as spoken."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.models import SubjectRequest
from recordings_service.privacy import package_queue, subjects
from recordings_service.runtime import Runtime
from recordings_service.storage.spool import file_sha256
from tests.factories.audit import events
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin, secure
from tests.factories.privacy import OFFICER, customer, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.factories.recordings import make_recording

NOW = datetime.now(UTC).replace(microsecond=0)


def _audio_digests(session: Session, runtime: Runtime, request: SubjectRequest) -> list[str]:
    """The SHA-256 of each call's audio in the request's package, as the customer downloads it."""
    _, reader = package_queue.open_package(
        session, runtime.store, runtime.envelope, actor=OFFICER, request_id=request.id
    )
    with reader:
        package = zipfile.ZipFile(io.BytesIO(reader.read()))
    names = [name for name in package.namelist() if name.startswith("recordings/") and "/audio" in name]
    return [hashlib.sha256(package.read(name)).hexdigest() for name in names]


def test_a_package_built_before_the_card_was_muted_is_built_again_from_the_muted_original(
    session: Session, runtime: Runtime
) -> None:
    person = customer(session)
    recording = make_recording(
        session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69, customer_id=person.id
    )
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=NOW
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()
    subject_access.build_packages(runtime)
    session.refresh(request)
    assert request.package_state == "ready"
    assert _audio_digests(session, runtime, request) == [file_sha256(CARD_CALL)]  # the card as read out

    add_transcript(session, recording, twin=card_twin())
    old_key = secure(runtime, session, recording)  # as the transcription job does once the card is heard
    session.commit()
    assert old_key is not None
    runtime.store.delete(old_key)

    session.refresh(request)
    assert request.package_state == "queued" and request.package_wrapped_key is None
    assert [event.details for event in events(session, "subject_access.rebuilding", request.id)] == [
        {"reason": "card_data_muted"}
    ]
    subject_access.build_packages(runtime)
    session.refresh(request)
    session.refresh(recording)
    assert request.package_state == "ready"
    assert _audio_digests(session, runtime, request) == [recording.sha256] != [file_sha256(CARD_CALL)]
