"""`GET /api/v1/deletions`: the ids of deleted recordings and when they went, for a sync job's copy. Found by an API
integrator's review: a nightly BI copy of call metadata (`GET /api/v1/recordings?ingested_from=…`) never learnt
that a call was erased or swept by retention, so the copy kept deleted calls for good."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Recording, Tombstone
from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.privacy.deletion import delete_due, delete_recording
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.audit import events, newest_seq
from tests.factories.pages import pages
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer
from tests.factories.recordings import make_recording, make_token

PATH = "/api/v1/deletions"
LONG_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=800)  # past every retention period


# SQLite test transactions are not always rolled back (conftest): a test's own deletions are made at a random moment
# years ago, so a window of deletion times holds its deletions alone.
@pytest.fixture
def moment(session: Session) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=2000 + secrets.randbelow(3000), seconds=1)


def feed(
    client: FlaskClient, session: Session, query: dict[str, str], *, role: str = Role.QA_SUPERVISOR, token: str = ""
) -> Any:
    token = token or make_token(session, role=role, scope="read")
    return client.get(PATH, query_string=query, headers={"Authorization": f"Bearer {token}"})


def deleted_at(session: Session, recording_id: str) -> datetime:
    return session.scalars(select(Tombstone.deleted_at).where(Tombstone.recording_id == recording_id)).one()


def delete_at(session: Session, store: ObjectStore, recording: Recording, when: datetime) -> None:
    """Delete the call, its tombstone then dated `when` (a deletion is stamped with the moment it is made)."""
    delete_recording(session, store, recording_id=recording.id, reason="retention", actor=OFFICER)
    session.execute(update(Tombstone).where(Tombstone.recording_id == recording.id).values(deleted_at=when))


def test_a_swept_call_and_an_erased_call_are_listed_with_when_they_went_and_a_live_call_is_not(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    before = utcnow()
    person = customer(session)
    erased = make_recording(session, store, envelope, customer_id=person.id, purposes=["training"])
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=before
    )
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    swept = aged_call(session, store, envelope, started_at=LONG_AGO, purposes=["training"], derived=False)
    assert [item.recording_id for item in delete_due(session, recording_ids=[swept.id], now=utcnow(), actor=OFFICER)]
    live = make_recording(session, store, envelope)
    session.commit()
    after = utcnow() + timedelta(seconds=1)

    response = feed(client, session, {"deleted_from": before.isoformat(), "deleted_to": after.isoformat()})

    assert response.status_code == 200, response.get_json()
    items = {item["id"]: item for item in response.get_json()["items"]}
    assert live.id not in items
    for call in (erased, swept):
        # The id and the moment, nothing else: no reason (an erasure tells of a customer's right), no customer.
        assert items[call.id].keys() == {"id", "deleted_at"}
        assert datetime.fromisoformat(items[call.id]["deleted_at"]) == deleted_at(session, call.id)
        assert before <= deleted_at(session, call.id) < after


def test_a_long_sweeps_later_batch_is_listed_from_the_end_of_a_window_read_meanwhile(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """A sweep's run began ten minutes ago (its `now`); a job read the feed up to a moment ago and asks next time
    from there less a minute. Stamped with the run's start, the batch deleted now fell before that window."""
    call = aged_call(session, store, envelope, started_at=LONG_AGO, purposes=["training"], derived=False)
    last_window_end = utcnow()
    run_began = last_window_end - timedelta(minutes=10)
    assert delete_due(session, recording_ids=[call.id], now=run_began, actor=OFFICER)
    session.commit()

    query = {"deleted_from": (last_window_end - timedelta(minutes=1)).isoformat()}
    listed = [item["id"] for item in feed(client, session, query).get_json()["items"]]

    assert call.id in listed


def test_a_long_erasure_is_listed_from_the_end_of_a_window_read_meanwhile(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by review: an erasure's tombstones were stamped with its request's start (`now`), though it commits
    after waiting for its locks and listing each call's objects: as the long sweep's batch, before a window read
    meanwhile."""
    person = customer(session)
    call = make_recording(session, store, envelope, customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow()
    )
    session.commit()
    last_window_end = utcnow()
    began = last_window_end - timedelta(minutes=10)
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE, now=began)
    session.commit()

    query = {"deleted_from": (last_window_end - timedelta(minutes=1)).isoformat()}
    assert call.id in [item["id"] for item in feed(client, session, query).get_json()["items"]]


def test_every_role_that_lists_calls_is_told_of_the_deletion_of_a_call_hidden_before_it_went(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by review: the feed listed deletions as the call list lists calls, so a call restricted (Art. 18) and
    then erased, or kept by an erasure for a legal duty until the sweep took it, was listed to compliance only: a
    sync job that copied it while it was in everyday use kept the copy of the customer who used their rights."""
    since = utcnow()
    person = customer(session)
    restricted_then_erased = make_recording(session, store, envelope, customer_id=person.id)
    for kind in ("restriction", "erasure"):
        request = subjects.create_request(
            session, actor=OFFICER, customer_ref=person.customer_ref, kind=kind, received_at=utcnow()
        )
        fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    kept_then_swept = make_recording(session, store, envelope, erasure_kept=True)
    delete_recording(session, store, recording_id=kept_then_swept.id, reason="erasure", actor=OFFICER)
    session.commit()
    window = {"deleted_from": since.isoformat()}

    for role in (Role.QA_SUPERVISOR, Role.TRAINER, Role.COMPLIANCE):
        listed = [item["id"] for item in feed(client, session, window, role=role).get_json()["items"]]
        assert {restricted_then_erased.id, kept_then_swept.id} <= set(listed), role


def test_another_lists_cursor_is_refused(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by review: the call list's cursor has the same shape (a moment, an id), and was read as a deletion's
    moment: 200, with the deletions before the call's start left out unsaid."""
    for _ in range(2):
        make_recording(session, store, envelope)
    session.commit()
    reader = {"Authorization": "Bearer " + make_token(session, role=Role.QA_SUPERVISOR, scope="read")}
    cursor = client.get("/api/v1/recordings", query_string={"limit": "1"}, headers=reader).get_json()["next_cursor"]

    response = client.get(PATH, query_string={"cursor": cursor}, headers=reader)

    assert response.status_code == 422, response.get_json()
    assert (response.get_json()["field"], response.get_json()["error"]) == ("cursor", "invalid_cursor")


def test_paging_a_window_sees_each_deletion_once_oldest_first(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, moment: datetime
) -> None:
    # Deleted in another order than made, two in the same instant (the id breaks the tie), one restricted (a
    # supervisor is told of its deletion too).
    offsets = [40, 3, 25, 25, 1, 30, 12]
    calls = [make_recording(session, store, envelope, restricted=number == 5) for number in range(len(offsets))]
    for call, seconds in zip(calls, offsets, strict=True):
        delete_at(session, store, call, moment + timedelta(seconds=seconds))
    before, at_end = make_recording(session, store, envelope), make_recording(session, store, envelope)
    delete_at(session, store, before, moment - timedelta(microseconds=1))
    delete_at(session, store, at_end, moment + timedelta(minutes=1))  # the window's end is exclusive
    late = make_recording(session, store, envelope)
    session.commit()
    window = {
        "deleted_from": moment.isoformat(),
        "deleted_to": (moment + timedelta(minutes=1)).isoformat(),
        "limit": "2",
    }
    seen: list[str] = []
    read = 0
    for read, body in enumerate(pages(lambda query: feed(client, session, query).get_json(), window), start=1):
        seen += [item["id"] for item in body["items"]]
        if read == 1:
            # Deleted while the job pages, after the page it has read: a later page lists it.
            delete_at(session, store, late, moment + timedelta(seconds=50))
            session.commit()

    deleted = [(moment + timedelta(seconds=s), call.id) for call, s in zip(calls, offsets, strict=True)]
    expected = [recording_id for _, recording_id in sorted([*deleted, (moment + timedelta(seconds=50), late.id)])]
    assert seen == expected
    assert (read, before.id in seen, at_end.id in seen) == (4, False, False)


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"deleted_from": "2026-12-01T00:00:00Z", "deleted_to": "2026-11-01T00:00:00Z"}, "deleted_to", "out_of_range"),
        # The same moment, written in another offset: a window holding no instant.
        (
            {"deleted_from": "2026-12-01T02:00:00+02:00", "deleted_to": "2026-12-01T00:00:00Z"},
            "deleted_to",
            "out_of_range",
        ),
        ({"deleted_from": "2026-12-01T00:00:00"}, "deleted_from", "timezone_required"),
        ({"deleted_to": "1764547200"}, "deleted_to", "invalid_datetime"),
        ({"deleted_from": "yesterday"}, "deleted_from", "invalid_datetime"),
        ({"limit": "0"}, "limit", "greater_than_equal"),  # as the call list pages
        ({"limit": "201"}, "limit", "less_than_equal"),
        ({"cursor": "not-a-cursor"}, "cursor", "invalid_cursor"),
        # Not a filter of this list: refused rather than answered with every deletion as if it had filtered.
        ({"reason": "erasure"}, "reason", "unknown_field"),
        ({"ingested_from": "2026-12-01T00:00:00Z"}, "ingested_from", "unknown_field"),
    ],
    ids=[
        "swapped",
        "same-moment",
        "no-offset",
        "seconds",
        "words",
        "limit-0",
        "limit-201",
        "cursor",
        "reason",
        "other",
    ],
)
def test_a_bad_query_is_422_naming_its_field(
    client: FlaskClient, session: Session, query: dict[str, str], field: str, code: str
) -> None:
    response = feed(client, session, query)

    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert (body["field"], body["error"]) == (field, code)
    if code == "out_of_range" and field == "deleted_to":
        assert "deleted_from" in body["message"]


def test_only_those_who_may_list_calls_read_the_feed(client: FlaskClient, session: Session) -> None:
    assert client.get(PATH).status_code == 401
    assert feed(client, session, {}, token="cvt_not-a-token").status_code == 401
    # The telephony system's ingest token, and a training token: neither lists calls.
    assert feed(client, session, {}, token=make_token(session)).status_code == 403
    assert feed(client, session, {}, token=make_token(session, role=Role.TRAINER, scope="training")).status_code == 403
    assert feed(client, session, {}, role=Role.TRAINER).status_code == 200
    login(client, make_user(session, role=Role.ADMIN))  # admins run the system, they list no calls
    assert client.get(PATH).status_code == 403
    login(client, make_user(session, role=Role.QA_SUPERVISOR))  # a signed-in session, as the call list
    assert client.get(PATH).status_code == 200


def test_each_page_read_is_audited_with_counts_and_the_bounds_given_only(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, moment: datetime
) -> None:
    calls = [make_recording(session, store, envelope) for _ in range(3)]
    for number, call in enumerate(calls):
        delete_at(session, store, call, moment + timedelta(seconds=number))
    session.commit()
    start = newest_seq(session)
    window = {
        "deleted_from": moment.isoformat(),
        "deleted_to": (moment + timedelta(minutes=1)).isoformat(),
        "limit": "2",
    }

    first = feed(client, session, window).get_json()
    feed(client, session, {**window, "cursor": first["next_cursor"]})

    listed = events(session, "recording.deletions_listed", after=start)
    assert [event.details for event in listed] == [
        {"results": 2, "next_page": False, "filters": ["deleted_from", "deleted_to"]},
        {"results": 1, "next_page": True, "filters": ["deleted_from", "deleted_to"]},
    ]
    assert {event.object_id for event in listed} == {None}


def test_the_feed_is_in_the_api_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {parameter["name"]: parameter for parameter in spec["paths"][PATH]["get"]["parameters"]}
    assert parameters.keys() == {"deleted_from", "deleted_to", "cursor", "limit"}
    assert "exclusive" in parameters["deleted_to"]["description"]
    item = spec["components"]["schemas"]["DeletionOut"]["properties"]
    assert item.keys() == {"id", "deleted_at"}
    assert item["deleted_at"]["format"] == "date-time"
