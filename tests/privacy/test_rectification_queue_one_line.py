"""A rectified queue is one line of visible text, as ingest takes a call's queue. Found by an exploratory pass over
odd text: `{"queue": "billing\\u200b"}` or a queue with a line break, a tab or an escape sequence was stored on the
call, which then stood alone in its queue on the call list, its filters and CSV exports (every other call of
"billing" elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, aged_call, customer, reload
from tests.factories.recordings import make_token
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish

NOW = datetime.now(UTC)


def rectification(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> tuple[str, str]:
    """A rectification request and a call of its customer (committed)."""
    person = customer(session)
    call = aged_call(session, bucket, envelope, started_at=NOW, purposes=["verification"], customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )
    session.commit()
    return request.id, call.id


@pytest.mark.parametrize("typed", ["billing\u200b", "bill\ning", "bill\ting", "bill\x1bing", "\u202ebilling"])
def test_the_api_refuses_an_invisible_character_in_a_corrected_queue(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope, typed: str
) -> None:
    request_id, call_id = rectification(session, bucket, envelope)
    headers = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    queue = reload(session, call_id).queue

    answer = client.post(
        f"/api/v1/subject-requests/{request_id}/fulfil",
        json={"recording_id": call_id, "metadata": {"queue": typed}},
        headers=headers,
    )

    assert answer.status_code == 422, answer.get_json()
    assert (answer.get_json()["error"], answer.get_json()["field"]) == ("invalid_character", "metadata.queue")
    session.expire_all()
    assert reload(session, call_id).queue == queue


def test_a_corrected_queue_in_any_alphabet_is_taken(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    request_id, call_id = rectification(session, bucket, envelope)
    headers = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    answer = client.post(
        f"/api/v1/subject-requests/{request_id}/fulfil",
        json={"recording_id": call_id, "metadata": {"queue": "Sähkö 通话 שלום"}},
        headers=headers,
    )

    assert answer.status_code == 200, answer.get_json()
    session.expire_all()
    assert reload(session, call_id).queue == "Sähkö 通话 שלום"


def test_the_page_says_so_beside_the_queue_in_finnish(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    request_id, call_id = rectification(session, bucket, envelope)
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = f"/subjects/{request_id}"

    refused = post_finnish(
        client, f"{page}/fulfil", {"recording_id": call_id, "queue": "laskutus\u200b"}, token_from=page
    )

    assert refused.status_code == 422
    assert "jono tai agentti on yksi rivi näkyvää tekstiä" in visible_text(refused.get_data(as_text=True))
