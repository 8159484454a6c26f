"""A request's page as a compliance officer reads it, in English and in Finnish: the customer's calls it lists are an
audited read, corrections name what they changed in words, and an erasure's kept calls carry a date of the page's
language. Found by exploratory testing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Recording
from recordings_service.privacy import subjects
from recordings_service.privacy.rectification import SegmentFix, rectify
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, reviewed, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.page_text import visible_text as page_text

NOW = datetime.now(UTC).replace(microsecond=0)


def visible_text(html: str) -> str:
    return " ".join(page_text(html).split())


def test_the_customers_calls_on_a_request_page_are_an_audited_read(
    officer_client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    calls = [aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)]
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=NOW
    )
    session.commit()
    listing = select(AuditEvent).where(AuditEvent.action == "recording.listed")
    earlier = set(session.scalars(listing.with_only_columns(AuditEvent.id)))  # other tests' lists, on a shared schema

    page = officer_client.get(f"/subjects/{request.id}").get_data(as_text=True)

    assert calls[0].id in page
    listed = [event for event in session.scalars(listing) if event.id not in earlier]
    assert [(event.details["results"], event.details["filters"]) for event in listed] == [(1, ["customer_ref"])]


def rectified(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> tuple[Recording, str]:
    """A call of a customer corrected in its agreement, language, direction and a transcript segment."""
    person = customer(session)
    call = reviewed(session, aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"]))
    call.customer_id = person.id
    call.language = "en"
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )
    rectify(
        session,
        actor=OFFICER,
        request_id=request.id,
        recording_id=call.id,
        metadata={"agreement_made": True, "language": "fi", "direction": "outbound"},
        transcript=[SegmentFix(1, "my gas reading is wrong")],
        zone=ORG_ZONE,
    )
    session.commit()
    return call, request.id


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Agreement made unknown yes", "Language English Finnish", "Direction inbound outbound"]),
        ("fi", ["Sopimus tehty ei tiedossa kyllä", "Kieli englanti suomi", "Suunta saapuva lähtevä"]),
    ],
)
def test_corrections_name_the_field_and_its_values_in_the_pages_language(
    officer_client: FlaskClient,
    session: Session,
    bucket: S3ObjectStore,
    envelope: Envelope,
    language: str,
    expected: list[str],
) -> None:
    _call, request_id = rectified(session, bucket, envelope)

    page = officer_client.get(f"/subjects/{request_id}", headers={"Accept-Language": language}).get_data(as_text=True)

    text = visible_text(page)
    for row in expected:
        assert row in text, text
    segment = "Transcript, segment 1" if language == "en" else "Litteraatti, jakso 1"
    assert f"{segment} my meter reading is wrong my gas reading is wrong" in text
    for raw in ("agreement_made", "True", "None", "outbound" if language == "fi" else "lähtevä"):
        assert raw not in text


def test_a_call_kept_as_evidence_shows_its_date_as_the_page_writes_dates(
    officer_client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    started = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    aged_call(
        session,
        bucket,
        envelope,
        started_at=started,
        purposes=["verification"],
        agreement_made=True,
        customer_id=person.id,
    )
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW
    )
    session.commit()
    path = f"/subjects/{request.id}"
    assert post_form(officer_client, f"{path}/fulfil", {}, token_from=path).status_code == 302

    english = visible_text(officer_client.get(f"/subjects/{request.id}").get_data(as_text=True))
    finnish = visible_text(
        officer_client.get(f"/subjects/{request.id}", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    )

    assert "evidence of an agreement made on the call, until 2029-03-05" in english
    assert "puhelussa tehdyn sopimuksen todiste, 5.3.2029 asti" in finnish
