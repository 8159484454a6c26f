"""`GET /api/v1/withheld`: the calls withheld from everyday use, or given back to it, for a sync job's copy (GDPR
Art. 19). Found by an earlier session's review: a nightly copy of call metadata (`GET /api/v1/recordings?
ingested_from=…`) learnt of deletions (`/api/v1/deletions`), but a call restricted (Art. 18) or kept by its
customer's erasure for a legal duty stays in the database, and the copy, made while it was in use, kept using it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.privacy import restriction, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.privacy.holds import place_hold
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.audit import events, newest_seq
from tests.factories.pages import pages
from tests.factories.privacy import OFFICER, ORG_ZONE, customer, reload
from tests.factories.recordings import make_recording, make_token

PATH = "/api/v1/withheld"


def feed(
    client: FlaskClient, session: Session, query: dict[str, str], *, role: str = Role.QA_SUPERVISOR, token: str = ""
) -> Any:
    token = token or make_token(session, role=role, scope="read")
    return client.get(PATH, query_string=query, headers={"Authorization": f"Bearer {token}"})


def listed(client: FlaskClient, session: Session, since: datetime, **kwargs: Any) -> dict[str, dict[str, Any]]:
    response = feed(client, session, {"changed_from": since.isoformat()}, **kwargs)
    assert response.status_code == 200, response.get_json()
    return {item["id"]: item for item in response.get_json()["items"]}


def test_a_restricted_call_and_one_an_erasure_kept_are_listed_withheld_and_a_call_in_use_is_not(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    since = utcnow()
    restricted_customer, erased_customer = customer(session), customer(session)
    restricted_call = make_recording(session, store, envelope, customer_id=restricted_customer.id)
    held_call = make_recording(session, store, envelope, customer_id=erased_customer.id)
    in_use = make_recording(session, store, envelope)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=restricted_customer.customer_ref, kind="restriction", received_at=since
    )
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    place_hold(session, actor=OFFICER, reason="dispute over a contract", recording_id=held_call.id)
    erasure = subjects.create_request(
        session, actor=OFFICER, customer_ref=erased_customer.customer_ref, kind="erasure", received_at=utcnow()
    )
    fulfil_request(session, store, actor=OFFICER, request_id=erasure.id, answer=Answer(), zone=ORG_ZONE)
    session.commit()
    assert reload(session, held_call.id).erasure_kept, "the hold keeps the call for its legal duty"
    after = utcnow() + timedelta(seconds=1)

    items = listed(client, session, since)

    assert in_use.id not in items
    for call in (restricted_call, held_call):
        # The id, that it is withheld and when; nothing else (no reason: which right the customer used).
        assert items[call.id].keys() == {"id", "withheld", "changed_at"}
        assert items[call.id]["withheld"] is True
        assert since <= datetime.fromisoformat(items[call.id]["changed_at"]) < after


def test_a_lifted_restriction_lists_the_call_as_in_use_again_and_a_call_stored_withheld_never_was(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    copied = make_recording(session, store, envelope, customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
    )
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    # Ingested while the restriction held: restricted from the start, so no copy ever held it.
    stored_withheld = make_recording(session, store, envelope, customer_id=person.id, restricted=True)
    session.commit()
    restricted_at = listed(client, session, utcnow() - timedelta(minutes=1))[copied.id]["changed_at"]
    assert stored_withheld.id not in listed(client, session, utcnow() - timedelta(minutes=1))
    lifting = utcnow()

    restriction.lift_restriction(session, actor=OFFICER, request_id=request.id)
    session.commit()

    items = listed(client, session, lifting)
    assert items[copied.id]["withheld"] is False
    assert datetime.fromisoformat(items[copied.id]["changed_at"]) > datetime.fromisoformat(restricted_at)
    # Given to everyday use now, as any call: the copy reads it as it reads calls it has not seen.
    assert items[stored_withheld.id]["withheld"] is False


def test_a_second_restriction_in_force_changes_nothing_a_copy_is_told(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = make_recording(session, store, envelope, customer_id=person.id)
    first, second = (
        subjects.create_request(
            session, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
        )
        for _ in range(2)
    )
    fulfil_request(session, store, actor=OFFICER, request_id=first.id, answer=Answer(), zone=ORG_ZONE)
    session.commit()
    first_change = reload(session, call.id).withheld_changed_at
    fulfil_request(session, store, actor=OFFICER, request_id=second.id, answer=Answer(), zone=ORG_ZONE)
    restriction.lift_restriction(session, actor=OFFICER, request_id=first.id)
    session.commit()

    # Withheld all along: the moment it was withheld stands, and the copy has nothing new to apply.
    assert reload(session, call.id).withheld_changed_at == first_change
    assert reload(session, call.id).restricted


def test_every_role_that_lists_calls_is_told_and_the_read_is_audited_without_ids(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Not as the call list lists calls (a restricted call is compliance's only): a sync job reading with a
    supervisor's token must learn that the call it copied is withheld now."""
    since = utcnow()
    person = customer(session)
    call = make_recording(session, store, envelope, customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=since
    )
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    session.commit()
    seq = newest_seq(session)

    for role in (Role.QA_SUPERVISOR, Role.TRAINER, Role.COMPLIANCE):
        assert listed(client, session, since, role=role)[call.id]["withheld"] is True, role

    read = events(session, "recording.withheld_listed", after=seq)
    assert len(read) == 3
    assert read[0].details["filters"] == ["changed_from"] and read[0].details["results"] >= 1
    assert call.id not in str(read[0].details)


def test_only_those_who_may_list_calls_read_the_feed(client: FlaskClient, session: Session) -> None:
    assert client.get(PATH).status_code == 401
    ingest = make_token(session, role=Role.SERVICE, scope="ingest", source="pbx")
    assert feed(client, session, {}, token=ingest).status_code == 403


@pytest.mark.parametrize(
    ("query", "field", "error"),
    [
        (
            {"changed_from": "2026-12-08T10:00:00+00:00", "changed_to": "2026-12-08T10:00:00+00:00"},
            "changed_to",
            "out_of_range",
        ),
        ({"changed_from": "yesterday"}, "changed_from", None),
        ({"reason": "restriction"}, "reason", "unknown_field"),
        ({"limit": "0"}, "limit", None),
        ({"cursor": "not-a-cursor"}, "cursor", "invalid_cursor"),
    ],
)
def test_bad_parameters_are_refused_naming_them(
    client: FlaskClient, session: Session, query: dict[str, str], field: str, error: str | None
) -> None:
    response = feed(client, session, query)

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field
    if error is not None:
        assert response.get_json()["error"] == error


def test_another_feeds_cursor_is_refused(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    reader = {"Authorization": "Bearer " + make_token(session, role=Role.QA_SUPERVISOR, scope="read")}
    for _ in range(2):
        make_recording(session, store, envelope)
    session.commit()
    cursor = client.get("/api/v1/recordings", query_string={"limit": "1"}, headers=reader).get_json()["next_cursor"]

    response = client.get(PATH, query_string={"cursor": cursor}, headers=reader)

    assert (response.status_code, response.get_json()["field"]) == (422, "cursor")


def test_paging_a_window_sees_each_change_once_oldest_first(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    # SQLite test transactions are not always rolled back (conftest): the test's changes are dated at a random
    # moment years ago, so a window of them holds its own alone.
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2000 + secrets.randbelow(3000))
    offsets = [40, 3, 25, 25, 1, 30, 12]
    calls = [make_recording(session, store, envelope, restricted=True) for _ in offsets]
    for call, seconds in zip(calls, offsets, strict=True):
        session.execute(
            update(Recording)
            .where(Recording.id == call.id)
            .values(withheld_changed_at=moment + timedelta(seconds=seconds))
        )
    session.commit()
    window = {"changed_from": moment.isoformat(), "changed_to": (moment + timedelta(minutes=1)).isoformat()}
    token = make_token(session, role=Role.QA_SUPERVISOR, scope="read")

    def read(query: dict[str, str]) -> dict[str, Any]:
        response = feed(client, session, query, token=token)
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    seen = [item["id"] for page in pages(read, {**window, "limit": "2"}) for item in page["items"]]

    order = sorted(zip(offsets, [call.id for call in calls], strict=True))
    assert seen == [call_id for _, call_id in order]
