"""An access package that can no longer be downloaded (expired, or withdrawn by the customer's erasure) loses its data
key, as an erased recording does: a copy of its object cannot be read with anything Callvault keeps.

Found by exploratory testing: the package's wrapped data key stayed in its row for good, while SeaweedFS keeps a
deleted object's bytes in its volume file until a compaction (which Callvault never asks for), and a backup of the
store keeps them too; the data directory, the database and the master key together decrypted the erased customer's
whole package (their calls, transcripts and customer ref)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.models import SubjectRequest
from recordings_service.privacy import subjects
from recordings_service.privacy.fulfilment import Answer, after_commit, fulfil_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from tests.factories.privacy import OFFICER, ORG_ZONE, ready_access_package, runtime_on_bucket  # noqa: F401  (fixtures)

NOW = datetime.now(UTC).replace(microsecond=0)


def _ready_package_and_a_copy(session: Session, runtime: Runtime) -> tuple[SubjectRequest, bytes]:
    """A built access package and a copy of its encrypted object, as the store's disk or a backup keeps it; the copy
    reads while the package is ready."""
    request = ready_access_package(session, runtime)
    assert request.package_key is not None
    copy = runtime.store.get(request.package_key).read()
    assert _opens(runtime.envelope, copy, request)
    return request, copy


def _opens(envelope: Envelope, copy: bytes, request: SubjectRequest) -> bool:
    """Whether the copy decrypts with what the request's row keeps."""
    if request.package_wrapped_key is None:
        return False
    with envelope.decrypting_stream(io.BytesIO(copy), wrapped=request.package_wrapped_key, object_id=request.id) as r:
        return r.read(4) == b"PK\x03\x04"


def test_an_expired_package_keeps_no_key_to_read_a_copy_of_it(session: Session, runtime: Runtime) -> None:
    request, copy = _ready_package_and_a_copy(session, runtime)
    session.execute(
        update(SubjectRequest).where(SubjectRequest.id == request.id).values(package_expires_at=NOW - timedelta(1))
    )
    session.commit()

    subject_access.expire_old_packages(runtime)

    session.refresh(request)
    assert request.package_state == "expired"
    assert (request.package_wrapped_key, request.package_master_key_id) == (None, None)
    assert not _opens(runtime.envelope, copy, request)


def test_a_package_withdrawn_by_the_customers_erasure_keeps_no_key_to_read_a_copy_of_it(
    session: Session, runtime: Runtime
) -> None:
    request, copy = _ready_package_and_a_copy(session, runtime)
    erasure = subjects.create_request(
        session, actor=OFFICER, customer_ref=request.customer_ref, kind="erasure", received_at=NOW
    )
    store = runtime.store
    done = fulfil_request(session, store, actor=OFFICER, request_id=erasure.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    after_commit(session, store, done)
    session.commit()

    session.refresh(request)
    assert request.package_state == "withdrawn"
    assert (request.package_wrapped_key, request.package_master_key_id) == (None, None)
    assert not _opens(runtime.envelope, copy, request)
