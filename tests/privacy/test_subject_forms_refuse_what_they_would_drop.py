"""The requests pages refuse what they would otherwise drop or misstate, found acting as a compliance officer:

- a corrected transcript text typed without its segment number was dropped without a word while the call's other
  corrections were saved ("Correction saved");
- looking up a reference longer than any customer's answered "No recordings are held for customer …" (200) and
  offered a register form that could only refuse it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Recording, SubjectCorrection
from recordings_service.privacy import subjects
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import OFFICER, aged_call, customer, reviewed, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.page_text import visible_text

NOW = datetime.now(UTC).replace(microsecond=0)


def test_a_corrected_text_without_its_segment_number_is_refused_with_the_typing_kept(
    officer_client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = reviewed(
        session, aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    )
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )
    session.commit()
    path = f"/subjects/{request.id}"

    sent = {"recording_id": call.id, "queue": "moving", "segment": " ", "text": "my gas reading is wrong"}
    refused = post_form(officer_client, f"{path}/fulfil", sent, token_from=path)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "give the number of the segment the corrected text is for" in page
    assert re.search(r'<input id="segment"[^>]*aria-invalid="true"', page)
    assert ">my gas reading is wrong</textarea>" in page and 'value="moving"' in page
    session.expire_all()
    assert session.get_one(Recording, call.id).queue == "sales"  # nothing half-saved
    assert session.scalars(select(SubjectCorrection)).all() == []


def test_looking_up_a_reference_too_long_for_any_customer_is_refused(
    officer_client: FlaskClient, session: Session
) -> None:
    response = officer_client.get("/subjects/", query_string={"customer_ref": "c" * 101})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No recordings are held" not in visible_text(page)
    assert "a customer reference of 1 to 100 characters" in page
    field = re.search(r'<input id="customer_ref"[^>]*>', page)
    assert field is not None and 'aria-invalid="true"' in field[0]
    assert "Register a request" not in visible_text(page)
