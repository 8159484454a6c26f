"""Found by an API integrator's review: a nightly export paged `GET /api/v1/recordings` by `started_from` alone, so
a call imported late (an archive, a telephony system's retry queue), made before the job's last run, was never
exported. `ingested_from`/`ingested_to` ask by when a call was stored (its `created_at`, in each item), whenever it
was made; before, either was 422 `unknown_field`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.pages import pages
from tests.factories.recordings import make_recording, make_token


# SQLite test transactions are not always rolled back (conftest), and every other test's calls are stored "now":
# each test's calls are stored at a random moment years ago, so a window of stored times holds its calls alone.
@pytest.fixture
def stored(session: Session) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=2000 + secrets.randbelow(3000), seconds=1)


def make_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    started_at: datetime,
    created_at: datetime,
    **given: Any,
) -> Recording:
    return make_recording(session, store, envelope, started_at=started_at, created_at=created_at, **given)


def listed(
    client: FlaskClient, session: Session, path: str, query: dict[str, str], *, role: str = "qa_supervisor"
) -> Any:
    token = make_token(session, role=role, scope="read")
    return client.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(("path", "items_of"), [("/api/v1/recordings", None), ("/api/v1/search", "recording")])
def test_a_call_imported_late_is_found_by_when_it_was_stored_not_by_an_earlier_window(
    client: FlaskClient,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    stored: datetime,
    path: str,
    items_of: str | None,
) -> None:
    exported = make_call(session, store, envelope, started_at=stored - timedelta(hours=1), created_at=stored)
    # Made a month before the call exported above, stored two hours after it: after the job's last run.
    archived = make_call(
        session, store, envelope, started_at=stored - timedelta(days=30), created_at=stored + timedelta(hours=2)
    )
    last_run = stored + timedelta(hours=1)

    def found(query: dict[str, str]) -> list[str]:
        response = listed(client, session, path, query)
        assert response.status_code == 200, response.get_json()
        return [(item[items_of] if items_of else item)["id"] for item in response.get_json()["items"]]

    since_last_run = {"ingested_from": last_run.isoformat(), "ingested_to": (stored + timedelta(days=1)).isoformat()}
    assert found(since_last_run) == [archived.id]
    assert found({"ingested_from": stored.isoformat(), "ingested_to": last_run.isoformat()}) == [exported.id]
    # The window's end is exclusive, its start inclusive: the call stored at `stored` is in the later window only.
    assert found({"ingested_from": (stored - timedelta(days=1)).isoformat(), "ingested_to": stored.isoformat()}) == []
    # By start, as the job asked before, the call made a month earlier is outside anything after its last run.
    assert archived.id not in found({**since_last_run, "started_from": exported.started_at.isoformat()})


def test_each_item_says_when_it_was_stored(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, stored: datetime
) -> None:
    call = make_call(session, store, envelope, started_at=stored - timedelta(days=3), created_at=stored)
    query = {"ingested_from": stored.isoformat(), "ingested_to": (stored + timedelta(seconds=1)).isoformat()}
    (item,) = listed(client, session, "/api/v1/recordings", query).get_json()["items"]
    assert (item["id"], datetime.fromisoformat(item["created_at"])) == (call.id, stored)


def test_paging_a_window_of_stored_times_sees_each_call_once_newest_start_first(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, stored: datetime
) -> None:
    # Stored in one order, started in another, two at the same instant (the id breaks the tie), one restricted.
    starts = [40, 3, 25, 25, 1, 300, 12]
    calls = [
        make_call(
            session,
            store,
            envelope,
            started_at=stored - timedelta(days=days),
            created_at=stored + timedelta(minutes=number),
            restricted=number == 6,
        )
        for number, days in enumerate(starts)
    ]
    outside = make_call(
        session, store, envelope, started_at=stored - timedelta(days=2), created_at=stored - timedelta(seconds=1)
    )
    window = {
        "ingested_from": stored.isoformat(),
        "ingested_to": (stored + timedelta(hours=1)).isoformat(),
        "limit": "2",
    }
    bodies = list(pages(lambda query: listed(client, session, "/api/v1/recordings", query).get_json(), window))
    seen = [item["id"] for body in bodies for item in body["items"]]
    visible = [call for call in calls if not call.restricted]
    newest_first = sorted(visible, key=lambda call: (call.started_at, call.id), reverse=True)
    assert seen == [call.id for call in newest_first]
    assert (len(bodies), outside.id in seen) == (3, False)


@pytest.mark.parametrize("path", ["/api/v1/recordings", "/api/v1/search"])
@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        (
            {"ingested_from": "2026-12-01T00:00:00Z", "ingested_to": "2026-11-01T00:00:00Z"},
            "ingested_to",
            "out_of_range",
        ),
        # The same moment, written in another offset: a window holding no instant.
        (
            {"ingested_from": "2026-12-01T02:00:00+02:00", "ingested_to": "2026-12-01T00:00:00Z"},
            "ingested_to",
            "out_of_range",
        ),
        ({"ingested_from": "2026-12-01T00:00:00"}, "ingested_from", "timezone_required"),
        ({"ingested_to": "1764547200"}, "ingested_to", "invalid_datetime"),
        ({"ingested_from": "yesterday"}, "ingested_from", "invalid_datetime"),
    ],
    ids=["swapped", "same-moment", "no-offset", "seconds", "words"],
)
def test_a_bad_window_is_422_naming_its_field(
    client: FlaskClient, session: Session, path: str, query: dict[str, str], field: str, code: str
) -> None:
    response = listed(client, session, path, query)
    assert response.status_code == 422
    body = response.get_json()
    assert (body["field"], body["error"]) == (field, code)
    if code == "out_of_range":
        assert "ingested_from" in body["message"]
