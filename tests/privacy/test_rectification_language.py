"""A rectified language is one the service works in, as ingest takes it (fi, sv, en). Found by exploratory testing:
`{"language": "de"}` was stored, and the call could no longer be found by its language (`?language=de` is refused by
every filter), nor transcribed in a language the service offers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.privacy import subjects
from recordings_service.privacy.rectification import rectify
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, reload

NOW = datetime.now(UTC)


def test_only_a_spoken_language_of_the_service_is_taken(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = aged_call(session, bucket, envelope, started_at=NOW, purposes=["verification"], customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )

    for wrong in ("de", "auto", "FI", "", None, 1):
        with pytest.raises(Invalid) as refused:
            rectify(
                session,
                actor=OFFICER,
                request_id=request.id,
                recording_id=call.id,
                metadata={"language": wrong},
                zone=ORG_ZONE,
            )
        assert refused.value.field == "metadata.language" and "fi, sv, en" in str(refused.value), wrong
    assert reload(session, call.id).language == "en"

    rectify(
        session, actor=OFFICER, request_id=request.id, recording_id=call.id, metadata={"language": "sv"}, zone=ORG_ZONE
    )
    assert reload(session, call.id).language == "sv"
