"""Dates and moments are ISO 8601 text. Pydantic also read a number, or a string of digits, as seconds since 1970 (a
date as that day): a research batch's `access_start` of "10" was stored as 1970-01-01T00:00:10Z and opened it at once,
a subject request received "1796487865" counted its deadline from then, `?started_from=0` filtered nothing, and a call
whose `started_at` was "10" was refused only as past its retention. Each is now 422 naming its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.recordings import call_metadata, make_recording, make_token, post_ingest
from tests.factories.research import batch_body, institute

SECONDS = ["10", "0", "-1", "1.5", "1796487865"]


def bearer(session: Session, *, role: Role, scope: str) -> dict[str, str]:
    headers = {"Authorization": "Bearer " + make_token(session, role=role, scope=scope)}
    session.commit()
    return headers


def refused(response: Any, field: str, code: str) -> bool:
    body = response.get_json()
    return response.status_code == 422 and (body["field"], body["error"]) == (field, code)


@pytest.mark.parametrize("seconds", SECONDS)
def test_a_call_started_at_a_count_of_seconds_is_refused(client: FlaskClient, session: Session, seconds: str) -> None:
    token = make_token(session)
    session.commit()

    response = post_ingest(client, token, json.dumps(call_metadata(started_at=seconds)))

    assert refused(response, "started_at", "invalid_datetime"), response.get_json()
    assert "2026-03-01T09:30:00+02:00" in response.get_json()["message"]


@pytest.mark.parametrize("seconds", SECONDS)
def test_a_call_list_from_a_count_of_seconds_is_refused(client: FlaskClient, session: Session, seconds: str) -> None:
    headers = bearer(session, role=Role.QA_SUPERVISOR, scope="read")

    for name in ("started_from", "started_to"):
        response = client.get(f"/api/v1/recordings?{name}={seconds}", headers=headers)
        assert refused(response, name, "invalid_datetime"), response.get_json()


def test_a_call_list_between_moments_is_answered(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    headers = bearer(session, role=Role.QA_SUPERVISOR, scope="read")
    call = make_recording(session, store, envelope, started_at=datetime(2026, 11, 2, 10, tzinfo=UTC))
    session.commit()

    response = client.get(
        "/api/v1/recordings?started_from=2026-11-02T11:00:00%2B02:00&started_to=2026-11-02T10:00:01Z", headers=headers
    )

    assert response.status_code == 200 and [item["id"] for item in response.get_json()["items"]] == [call.id]


@pytest.mark.parametrize("seconds", SECONDS)
def test_a_subject_request_received_at_a_count_of_seconds_is_refused(
    client: FlaskClient, session: Session, seconds: str
) -> None:
    headers = bearer(session, role=Role.COMPLIANCE, scope="compliance")
    body = {"customer_ref": "CRM-SECONDS", "kind": "access", "received_at": seconds}

    response = client.post("/api/v1/subject-requests", json=body, headers=headers)

    assert refused(response, "received_at", "invalid_datetime"), response.get_json()


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (("access_start",), "10", "invalid_datetime"),
        (("access_end",), "1796487865", "invalid_datetime"),
        (("study_end",), "86400", "invalid_date"),
        (("criteria", "from"), "0", "invalid_date"),
        (("criteria", "to"), "1796400000", "invalid_date"),
        (("criteria", "to"), "2026-11-30T00:00:00", "invalid_date"),  # a day, not a moment: refused as before
    ],
)
def test_a_research_batch_with_a_count_of_seconds_is_refused(
    client: FlaskClient, session: Session, path: tuple[str, ...], value: str, code: str
) -> None:
    headers = bearer(session, role=Role.COMPLIANCE, scope="research")
    body = batch_body(institute(session).id)
    session.commit()
    *parents, name = path
    target = body
    for parent in parents:
        target = target[parent]
    target[name] = value

    response = client.post("/api/v1/research/batches", json=body, headers=headers)

    assert refused(response, ".".join(path), code), response.get_json()


def test_an_assignment_due_on_a_count_of_seconds_is_refused(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    headers = bearer(session, role=Role.QA_SUPERVISOR, scope="evaluation")
    call = make_recording(session, store, envelope)
    session.commit()

    response = client.post("/api/v1/assignments", json={"recording_id": call.id, "due": "0"}, headers=headers)

    assert refused(response, "due", "invalid_date"), response.get_json()


def test_an_offset_of_hours_alone_is_read_as_iso_8601_writes_it(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    """`+02` is ISO 8601's `+02:00` written short. Before, it was 422 "unexpected extra characters at the end of the
    input", which did not say what was expected."""
    headers = bearer(session, role=Role.QA_SUPERVISOR, scope="read")
    call = make_recording(session, store, envelope, started_at=datetime(2026, 11, 2, 10, tzinfo=UTC))
    session.commit()

    response = client.get(
        "/api/v1/recordings?started_from=2026-11-02T12:00%2B02&started_to=2026-11-02T05:00:01-05", headers=headers
    )

    assert response.status_code == 200, response.get_json()
    assert [item["id"] for item in response.get_json()["items"]] == [call.id]


@pytest.mark.parametrize("offset", ["%2B2", "%2B02:0", "%2B020", "%2B2:00"])
def test_an_offset_not_written_as_iso_8601_is_refused_saying_what_is_expected(
    client: FlaskClient, session: Session, offset: str
) -> None:
    headers = bearer(session, role=Role.QA_SUPERVISOR, scope="read")

    response = client.get(f"/api/v1/recordings?started_from=2026-11-02T12:00:00{offset}", headers=headers)

    assert refused(response, "started_from", "invalid_datetime"), response.get_json()
    assert "2026-03-01T09:30:00+02:00" in response.get_json()["message"], response.get_json()
