"""Input an exploratory tester sent to break the API: each one is refused in the API's error shape, never a 500.

A lone surrogate escape in a JSON body; the NUL character (which PostgreSQL text cannot hold) in a path, a query,
a form, a JSON body or an upload's metadata; a moment that exists with its offset but not in UTC.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.models import Recording
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form
from tests.factories.recordings import call_metadata, make_token, post_ingest
from tests.factories.research import batch_body, institute

NUL_REFUSED = "invalid_character"


def bearer(session: Session, role: str, scope: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=role, scope=scope)}


def refused(response: Any, status: int, code: str, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert (body["error"], body.get("field")) == (code, field)
    assert body["message"]
    return body


# ---------------------------------------------------------------- a lone surrogate escape


@pytest.mark.parametrize(
    ("path", "role", "scope"),
    [
        ("/api/v1/legal-holds", Role.COMPLIANCE, "compliance"),
        ("/api/v1/subject-requests", Role.COMPLIANCE, "compliance"),
        ("/api/v1/evaluations", Role.QA_SUPERVISOR, "evaluation"),
    ],
)
def test_a_lone_surrogate_escape_is_invalid_json_as_a_malformed_body_is(
    client: FlaskClient, session: Session, path: str, role: str, scope: str
) -> None:
    headers = bearer(session, role, scope)
    malformed = refused(
        client.post(path, data=b'{"a":', content_type="application/json", headers=headers), 422, "invalid_json", "body"
    )
    for body in (b'{"a":"\\ud800"}', b'{"customer_ref":"\\udfff"}'):
        surrogate = refused(
            client.post(path, data=body, content_type="application/json", headers=headers), 422, "invalid_json", "body"
        )
        assert surrogate.keys() == malformed.keys()


# ---------------------------------------------------------------- the NUL character


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/legal-holds", {"customer_ref": "CRM-\u0000", "reason": "litigation"}, "customer_ref"),
        (
            "/api/v1/subject-requests",
            {"customer_ref": "CRM-\u0000", "kind": "access", "received_at": "2024-01-02T00:00:00Z"},
            "customer_ref",
        ),
        ("/api/v1/legal-holds", {"reason": "fine", "na\u0000me": "x"}, "na\\u0000me"),
    ],
)
def test_nul_in_a_json_body_is_422_naming_the_field(
    client: FlaskClient, session: Session, path: str, body: dict[str, Any], field: str
) -> None:
    headers = bearer(session, Role.COMPLIANCE, "compliance")
    refused(client.post(path, json=body, headers=headers), 422, NUL_REFUSED, field)


def test_nul_deep_in_a_json_body_is_named_by_its_dotted_path(client: FlaskClient, session: Session) -> None:
    headers = bearer(session, Role.COMPLIANCE, "research")
    lab = institute(session).id
    session.commit()
    body = batch_body(lab)
    body["criteria"] = {**body["criteria"], "queues": ["sales", "sup\u0000port"]}
    refused(client.post("/api/v1/research/batches", json=body, headers=headers), 422, NUL_REFUSED, "criteria.queues.1")


def test_an_escaped_backslash_before_u0000_is_no_nul(client: FlaskClient, session: Session) -> None:
    # `\\u0000` in JSON text is a backslash and "u0000": six characters, none of them NUL.
    headers = bearer(session, Role.COMPLIANCE, "compliance")
    body = b'{"customer_ref":"CRM-\\\\u0000","kind":"access","received_at":"2024-01-02T00:00:00Z"}'
    response = client.post("/api/v1/subject-requests", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["customer_ref"] == "CRM-\\u0000"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/recordings?queue=a%00b", "queue"),
        ("/api/v1/search?q=hello%00world", "q"),
        ("/api/v1/recordings?limit=5&cursor=%00", "cursor"),
    ],
)
def test_nul_in_a_query_parameter_is_422_naming_it(client: FlaskClient, session: Session, url: str, field: str) -> None:
    refused(client.get(url, headers=bearer(session, Role.QA_SUPERVISOR, "read")), 422, NUL_REFUSED, field)


@pytest.mark.parametrize(
    ("url", "role", "scope"),
    [
        ("/api/v1/recordings/a%00b", Role.QA_SUPERVISOR, "read"),
        ("/api/v1/subject-requests/%00", Role.COMPLIANCE, "compliance"),
    ],
)
def test_nul_in_an_id_in_the_path_finds_nothing(
    client: FlaskClient, session: Session, url: str, role: str, scope: str
) -> None:
    refused(client.get(url, headers=bearer(session, role, scope)), 404, "not_found", None)


@pytest.mark.parametrize("field", ["external_call_id", "queue", "agent_ref", "customer_ref"])
def test_nul_in_an_uploads_metadata_is_422_naming_the_field_and_nothing_is_stored(
    client: FlaskClient, session: Session, field: str
) -> None:
    recordings = select(func.count()).select_from(Recording)
    before = session.scalar(recordings)
    refused(post_ingest(client, make_token(session), call_metadata(**{field: "x\u0000y"})), 422, NUL_REFUSED, field)
    assert session.scalar(recordings) == before
    # The upload still works once the metadata is clean: the check did not consume the streamed body.
    assert post_ingest(client, make_token(session), call_metadata()).status_code == 201


def test_the_pages_refuse_nul_with_the_error_page(client: FlaskClient, session: Session) -> None:
    signing_in = post_form(client, "/login", {"username": "ad\u0000min", "password": "x"})
    assert signing_in.status_code == 422 and signing_in.mimetype == "text/html"
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    listed = client.get("/calls/?queue=a%00b")
    assert listed.status_code == 422 and listed.mimetype == "text/html"
    assert "remove the NUL character (U+0000)" in listed.get_data(as_text=True)
    finnish = client.get("/calls/?queue=a%00b", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "poista NUL-merkki (U+0000)" in finnish
    assert client.get("/calls/a%00b").status_code == 404


def test_nul_reaching_the_database_another_way_is_refused_on_every_backend(session: Session) -> None:
    # The inbox and the CLI write what no request carried; SQLite would store the NUL, PostgreSQL fail on it.
    with pytest.raises(Invalid) as refusal:
        session.scalar(select(Recording.id).where(Recording.queue == "q\u0000"))
    assert (refusal.value.field, refusal.value.code) == ("queue", NUL_REFUSED)
    with pytest.raises(Invalid):
        session.execute(text("SELECT :value"), {"value": ["nested", {"key": "\u0000"}]})


# ---------------------------------------------------------------- a moment with no UTC equivalent

BEFORE_YEAR_1 = "0001-01-01T00:00:00+01:00"  # 0000-12-31T23:00Z
AFTER_YEAR_9999 = "9999-12-31T23:59:59-23:59"  # 10000-01-01T23:58:59Z


@pytest.mark.parametrize("moment", [BEFORE_YEAR_1, AFTER_YEAR_9999])
@pytest.mark.parametrize("path", ["/api/v1/recordings", "/api/v1/search"])
@pytest.mark.parametrize("name", ["started_from", "started_to"])
def test_a_filter_moment_outside_utcs_years_is_422_naming_it(
    client: FlaskClient, session: Session, path: str, name: str, moment: str
) -> None:
    response = client.get(path, query_string={name: moment}, headers=bearer(session, Role.QA_SUPERVISOR, "read"))
    assert "out of range" in refused(response, 422, "out_of_range", name)["message"]


def test_a_research_window_outside_utcs_years_is_422_naming_it(client: FlaskClient, session: Session) -> None:
    headers = bearer(session, Role.COMPLIANCE, "research")
    lab = institute(session).id
    session.commit()
    body = batch_body(lab) | {"access_start": BEFORE_YEAR_1}
    refused(client.post("/api/v1/research/batches", json=body, headers=headers), 422, "out_of_range", "access_start")


def test_the_extreme_moments_utc_can_hold_still_filter(client: FlaskClient, session: Session) -> None:
    headers = bearer(session, Role.QA_SUPERVISOR, "read")
    earliest, latest = "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-00:00"
    response = client.get(
        "/api/v1/recordings", query_string={"started_from": earliest, "started_to": latest}, headers=headers
    )
    assert response.status_code == 200, response.get_json()


def test_call_dates_up_to_the_last_day_there_is_select_calls(client: FlaskClient, session: Session) -> None:
    """Found by exploratory testing: a research batch or training sample "to 9999-12-31" was a 500 (the day after
    it does not exist); it means no upper bound."""
    research = bearer(session, Role.COMPLIANCE, "research")
    lab = institute(session).id
    session.commit()
    criteria = {"from": "2020-01-01", "to": "9999-12-31", "sample_size": 5, "seed": 1}
    made = client.post("/api/v1/research/batches", json=batch_body(lab) | {"criteria": criteria}, headers=research)
    assert made.status_code == 201, made.get_json()
    training = bearer(session, Role.TRAINER, "training")
    sampled = client.post("/api/v1/training/samples", json={"size": 5, "to": "9999-12-31"}, headers=training)
    assert sampled.status_code == 200, sampled.get_json()
