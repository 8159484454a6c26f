"""The rectification form corrects a call's direction and whether the caller was told of the recording, as the API
and the service can. Found acting as a compliance officer: a customer who said they were never told the call was
recorded (or that they had called us, not we them) could only be answered through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Recording, SubjectCorrection, SubjectRequest
from recordings_service.privacy import subjects
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import OFFICER, aged_call, customer, runtime_on_bucket  # noqa: F401  (fixtures)

NOW = datetime.now(UTC).replace(microsecond=0)


def rectification(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> tuple[Recording, SubjectRequest]:
    """An inbound call whose caller was told of the recording, of a customer who asked for rectification."""
    person = customer(session)
    call = aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )
    session.commit()
    assert call.direction == "inbound" and call.notice_given is True
    return call, request


def test_the_form_corrects_direction_and_recording_notice(
    officer_client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    call, request = rectification(session, bucket, envelope)
    path = f"/subjects/{request.id}"
    form = officer_client.get(path).get_data(as_text=True)
    assert '<select id="direction" name="direction"' in form and '<select id="notice_given" name="notice_given"' in form

    sent = {"recording_id": call.id, "direction": "outbound", "notice_given": "no"}
    assert post_form(officer_client, f"{path}/fulfil", sent, token_from=path).status_code == 302

    session.expire_all()
    stored = session.get_one(Recording, call.id)
    assert (stored.direction, stored.notice_given) == ("outbound", False)
    corrections = session.scalars(select(SubjectCorrection).where(SubjectCorrection.recording_id == call.id)).all()
    assert {(c.field, c.previous, c.value) for c in corrections} == {
        ("direction", "inbound", "outbound"),
        ("notice_given", True, False),
    }
    page = officer_client.get(path).get_data(as_text=True)
    assert "Recording notice given" in page and "outbound" in page


def test_a_value_the_selects_do_not_offer_is_refused_beside_the_field_with_the_typing_kept(
    officer_client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    call, request = rectification(session, bucket, envelope)
    path = f"/subjects/{request.id}"

    for field, value, message in (
        ("direction", "sideways", "choose inbound or outbound"),
        ("notice_given", "maybe", "choose yes or no"),
    ):
        sent = {"recording_id": call.id, "queue": "moving", "direction": "outbound", "notice_given": "no"}
        refused = post_form(officer_client, f"{path}/fulfil", {**sent, field: value}, token_from=path)

        page = refused.get_data(as_text=True)
        assert refused.status_code == 422, field
        assert f'<p class="flash error" role="alert" id="answer-error">{message}</p>' in page
        assert re.search(rf'<select id="{field}"[^>]*aria-invalid="true"', page)
        assert 'value="moving"' in page  # what else was typed is kept
        other = "notice_given" if field == "direction" else "direction"
        assert re.search(rf'<select id="{other}".*?<option value="{sent[other]}" selected>', page, re.S)

    session.expire_all()
    assert session.get_one(Recording, call.id).direction == "inbound"
    assert session.scalars(select(SubjectCorrection)).all() == []
