"""An access package goes to the customer, outside the organisation: it must not name the agent who took the call.
Found by review: each call's metadata.json held the agent's reference (often the agent's own user name), the
agent's personal data rather than the subject's (GDPR Art. 15(4)); research and training pseudonymise it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from recordings_service.privacy.access_package import package_entry
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import ORG_ZONE, aged_call, customer

AGENT = "anna.virtanen"


def test_a_calls_documents_do_not_name_its_agent(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> None:
    person = customer(session)
    call = aged_call(
        session,
        bucket,
        envelope,
        started_at=datetime.now(UTC),
        purposes=["training"],
        customer_id=person.id,
        agent_ref=AGENT,
    )

    entry = package_entry(session, recording_id=call.id, customer_id=person.id, zone=ORG_ZONE)

    assert entry is not None
    metadata = json.loads(entry.documents[f"recordings/{call.id}/metadata.json"])
    assert "agent_ref" not in metadata
    assert metadata["customer_ref"] == person.customer_ref and metadata["purposes"] == ["training"]
    assert not any(AGENT in body.decode() for body in entry.documents.values())
