"""A call sent again with the same audio is the stored call (200), and the answer says so and names every metadata
field sent otherwise than stored, which was not applied. Found by exploratory testing: a telephony system re-sending
a call with a corrected queue or customer got the same 200 as a plain retry, and took the correction for made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from tests.factories.recordings import call_metadata, make_token, post_ingest


def test_the_answer_names_the_fields_sent_otherwise_and_keeps_the_stored_call(
    client: FlaskClient, session: Session
) -> None:
    token = make_token(session)
    started = datetime.now(timezone(timedelta(hours=2))).replace(microsecond=0) - timedelta(hours=1)
    metadata = call_metadata(started_at=started.isoformat(), purposes=["verification", "training"])
    first = post_ingest(client, token, metadata).get_json()

    same_moment_elsewhere = started.astimezone(UTC).isoformat()
    retried = post_ingest(
        client, token, {**metadata, "started_at": same_moment_elsewhere, "purposes": ["training", "verification"]}
    )
    assert retried.status_code == 200
    assert (retried.get_json()["already_ingested"], retried.get_json()["metadata_not_applied"]) == (True, [])

    corrected = {**metadata, "queue": "billing", "customer_ref": "cust-other", "agreement_made": True}
    answer = post_ingest(client, token, corrected)

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["id"] == first["id"] and body["already_ingested"] is True
    assert body["metadata_not_applied"] == ["queue", "customer_ref", "agreement_made"]
    stored = session.get_one(Recording, first["id"])
    session.refresh(stored)
    assert (stored.queue, stored.customer_ref, stored.agreement_made) == ("sales", metadata["customer_ref"], None)
