"""An access request is chargeable (Art. 12(5), 15(3)) only after a copy the customer was given. Found by review: an
earlier request whose package was never downloaded, or was withdrawn by an erasure, made the next one chargeable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.models import SubjectRequest
from recordings_service.privacy import package_queue, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, runtime_on_bucket  # noqa: F401  (fixture)

NOW = datetime.now(UTC).replace(microsecond=0)


def access(session: Session, ref: str, *, received_at: datetime) -> SubjectRequest:
    return subjects.create_request(
        session, actor=OFFICER, customer_ref=ref, kind="access", received_at=received_at, now=NOW
    )


def built(session: Session, runtime: Runtime, ref: str, *, received_at: datetime) -> SubjectRequest:
    """An access request whose package the jobs process built, ready to download."""
    request = access(session, ref, received_at=received_at)
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()
    subject_access.build_packages(runtime)
    session.refresh(request)
    assert request.package_state == "ready"
    return request


def download(session: Session, bucket: S3ObjectStore, envelope: Envelope, request: SubjectRequest) -> None:
    _, reader = package_queue.open_package(session, bucket, envelope, actor=OFFICER, request_id=request.id)
    with reader:
        reader.read()
    session.flush()


def test_a_package_never_downloaded_gave_no_copy(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    person = customer(session)
    aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=person.id)
    queued = access(session, person.customer_ref, received_at=NOW - timedelta(days=60))
    package_queue.request_package(session, actor=OFFICER, request_id=queued.id)  # never built
    built(session, runtime, person.customer_ref, received_at=NOW - timedelta(days=30))  # built, never downloaded

    assert access(session, person.customer_ref, received_at=NOW).chargeable is False


def test_a_package_withdrawn_by_an_erasure_gave_no_copy(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    person = customer(session)
    aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=person.id)
    earlier = built(session, runtime, person.customer_ref, received_at=NOW - timedelta(days=30))
    erasure = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=erasure.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    session.refresh(earlier)
    assert earlier.package_state == "withdrawn"

    assert access(session, person.customer_ref, received_at=NOW).chargeable is False


def test_a_downloaded_package_makes_the_next_copy_within_twelve_months_chargeable(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    person = customer(session)
    aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=person.id)
    earlier = built(session, runtime, person.customer_ref, received_at=NOW - timedelta(days=30))
    download(session, bucket, envelope, earlier)

    assert access(session, person.customer_ref, received_at=NOW).chargeable is True
