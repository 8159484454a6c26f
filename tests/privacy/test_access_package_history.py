"""The access package lists the customer's other requests about their data and the legal holds on their calls
(Art. 15: the subject's own dealings with us are their data too), without a hold's reason (a legal claim's). Found by
review: the package held the calls alone, and a customer who asked again could not see what had become of their
earlier requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recordings_service.privacy import holds, subjects
from recordings_service.privacy.access_history import subject_history
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.privacy.withdrawal import withdraw_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer

NOW = datetime.now(UTC).replace(microsecond=0)
REASON = "Court case 7 against the customer"


def test_other_requests_and_holds_are_listed_without_the_holds_reason(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person, stranger = customer(session), customer(session)
    call = aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)

    def request(kind: str, days_ago: int, who: str = person.customer_ref) -> str:
        made = subjects.create_request(
            session, actor=OFFICER, customer_ref=who, kind=kind, received_at=NOW - timedelta(days=days_ago)
        )
        return made.id

    objection = request("objection", 30)
    fulfil_request(session, bucket, actor=OFFICER, request_id=objection, answer=Answer(research=True), zone=ORG_ZONE)
    mistaken = request("restriction", 20)
    withdraw_request(session, actor=OFFICER, request_id=mistaken, reason="registered for the wrong customer")
    request("objection", 10, who=stranger.customer_ref)
    hold = holds.place_hold(session, actor=OFFICER, reason=REASON, recording_id=call.id).hold
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="settled")
    this_one = request("access", 0)
    session.flush()

    history = subject_history(session, customer_id=person.id, request_id=this_one)

    assert [(item["kind"], item["withdrawn"], item["answered_at"] is not None) for item in history["requests"]] == [
        ("objection", False, True),
        ("restriction", True, False),
    ]
    [listed] = history["legal_holds"]
    assert (listed["recording_id"], listed["all_your_calls"]) == (call.id, False)
    assert listed["released_at"] is not None and REASON not in str(history)
