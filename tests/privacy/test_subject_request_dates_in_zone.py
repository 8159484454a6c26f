"""A request's dates are days of the organisation's calendar (CALLVAULT_TIMEZONE) whatever offset `received_at`
carries, as its deadline is: the 12 months of a free copy, and the day the GDPR began to apply."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.models import SubjectRequest
from recordings_service.privacy import package_queue, subjects
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, customer, runtime_on_bucket  # noqa: F401  (fixture)

HELSINKI = ZoneInfo("Europe/Helsinki")


def access(session: Session, ref: str, *, received_at: datetime) -> SubjectRequest:
    return subjects.create_request(
        session, actor=OFFICER, customer_ref=ref, kind="access", received_at=received_at, zone=ORG_ZONE
    )


def test_the_free_copys_twelve_months_are_counted_in_the_organisations_calendar(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    person = customer(session)
    # A copy given of a request received on leap day 2024 in Helsinki...
    earlier = access(session, person.customer_ref, received_at=datetime(2024, 2, 29, 10, tzinfo=HELSINKI))
    package_queue.request_package(session, actor=OFFICER, request_id=earlier.id)
    session.commit()
    subject_access.build_packages(runtime)
    session.refresh(earlier)
    assert earlier.package_state == "ready"
    _, reader = package_queue.open_package(session, bucket, envelope, actor=OFFICER, request_id=earlier.id)
    with reader:
        reader.read()
    session.flush()

    # ...and one received on 1 March 2025 at 00:30 there, sent in UTC (28 February 22:30): twelve months back from
    # 1 March is 1 March 2024, after the copy; counted in UTC they reached back to 28 February 2024.
    later = access(session, person.customer_ref, received_at=datetime(2025, 2, 28, 22, 30, tzinfo=UTC))

    assert later.chargeable is False


def test_a_request_received_on_the_day_the_gdpr_began_in_helsinki_is_registered(session: Session) -> None:
    # 25 May 2018 began in Helsinki at 21:00 on the 24th in UTC: the page's day, and the API's UTC moment, were
    # refused.
    typed = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="erasure",
        received_at=datetime(2018, 5, 25, tzinfo=ORG_ZONE),
    )
    sent = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="access",
        received_at=datetime(2018, 5, 24, 21, 30, tzinfo=UTC),
        zone=ORG_ZONE,
    )

    assert typed.due_at == datetime(2018, 6, 25, 23, 59, 59, 999999, tzinfo=ORG_ZONE)
    assert sent.due_at == datetime(2018, 6, 25, 23, 59, 59, 999999, tzinfo=ORG_ZONE)
