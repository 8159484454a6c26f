"""The call list's tools: column sorting, pickers, tags, saved searches and the bulk actions (tag, export, assign)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls import saved_searches, search, tags
from recordings_service.calls.list_export import export_calls_csv
from recordings_service.errors import NotFound
from recordings_service.models import Assignment, AuditEvent, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.factories.search import evaluate, on_day, random_day


@pytest.fixture
def day() -> datetime:
    return random_day()


def calls_of_the_day(session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime) -> dict[str, Recording]:
    """Four calls: a, b and c differ in every sortable column; d ties with b on duration (the id decides)."""
    specs = {
        "a": {"duration_s": 30.0, "queue": "sales", "agent_ref": "Bob", "minutes": 0},
        "b": {"duration_s": 90.0, "queue": "Billing", "agent_ref": "alice", "minutes": 1},
        "c": {"duration_s": 10.0, "queue": "support", "agent_ref": "Carol", "minutes": 2},
        "d": {"duration_s": 90.0, "queue": "billing", "agent_ref": "alice", "minutes": 3},
    }
    calls = {}
    for name, spec in specs.items():
        calls[name] = make_recording(
            session,
            store,
            envelope,
            audio=b"RIFF",
            started_at=day + timedelta(minutes=spec["minutes"]),  # type: ignore[arg-type]
            duration_s=spec["duration_s"],
            queue=spec["queue"],
            agent_ref=spec["agent_ref"],
        )
    return calls


def order(session: Session, user_role: str, day: datetime, sort: str, descending: bool, **filters: str) -> list[str]:
    actor = actor_of(make_user(session, role=user_role))
    page = search.search_calls(
        session, actor=actor, filters=on_day(day, **filters), sort=sort, descending=descending, limit=50
    )
    return [item.recording.id for item in page.items]


def test_sorting_by_each_column_is_stable_with_the_id_breaking_ties(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls = calls_of_the_day(session, store, envelope, day)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    evaluate(session, calls["a"], evaluator=supervisor, score=70.0)
    evaluate(session, calls["c"], evaluator=supervisor, score=95.0)
    evaluate(session, calls["b"], evaluator=supervisor, score=40.0)
    a, b, c, d = (calls[name].id for name in "abcd")
    b_d = sorted([b, d])  # equal durations (and queues, agents, folded): ascending by id
    qa = Role.QA_SUPERVISOR

    assert order(session, qa, day, "started", True) == [d, c, b, a]
    assert order(session, qa, day, "started", False) == [a, b, c, d]
    assert order(session, qa, day, "duration", False) == [c, a, *b_d]
    assert order(session, qa, day, "duration", True) == [*reversed(b_d), a, c]
    # Case does not split the queue: "Billing" and "billing" sort together, before "sales".
    assert order(session, qa, day, "queue", False) == [*b_d, a, c]
    assert order(session, qa, day, "agent", False) == [*b_d, a, c]
    # Unevaluated calls come last in either direction.
    assert order(session, qa, day, "score", True) == [c, a, b, d]
    assert order(session, qa, day, "score", False) == [b, a, c, d]


def test_other_orders_page_by_offset_without_overlap(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls = calls_of_the_day(session, store, envelope, day)
    actor = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = search.search_calls(
            session, actor=actor, filters=on_day(day), sort="duration", descending=True, limit=1, offset=offset
        )
        assert page.next_cursor is None
        seen += [item.recording.id for item in page.items]
        offset = page.next_offset
    assert sorted(seen) == sorted(call.id for call in calls.values()) and len(seen) == 4


def test_the_list_sorts_from_header_links_marked_with_aria_sort(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls = calls_of_the_day(session, store, envelope, day)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    window = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}

    page = client.get("/calls/", query_string={**window, "sort": "duration", "dir": "asc"}).get_data(as_text=True)

    header = re.search(r'<th scope="col" aria-sort="ascending">\s*<a href="([^"]+)"', page)
    assert header and "sort=duration" in header.group(1) and "dir=desc" in header.group(1)
    assert page.count("aria-sort=") == 1
    positions = [page.index(f'href="/calls/{calls[name].id}"') for name in "ca"]
    assert positions == sorted(positions)
    assert calls["a"].external_call_id in page  # the external call id column


def test_queue_and_agent_filters_ignore_case_and_the_pickers_offer_known_values(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls = calls_of_the_day(session, store, envelope, day)
    qa = Role.QA_SUPERVISOR

    assert sorted(order(session, qa, day, "started", True, queue="BILLING")) == sorted([calls["b"].id, calls["d"].id])
    assert order(session, qa, day, "started", True, agent_ref="bob") == [calls["a"].id]

    login(client, make_user(session, role=qa))
    page = client.get("/calls/").get_data(as_text=True)
    queues = re.search(r'<datalist id="queue-options">(.*?)</datalist>', page)
    agents = re.search(r'<datalist id="agent-options">(.*?)</datalist>', page)
    assert queues and agents
    offered = re.findall(r'<option value="([^"]+)">', queues.group(1))
    assert "sales" in offered and "support" in offered
    assert len([value for value in offered if value.casefold() == "billing"]) == 1  # one entry per queue
    assert 'list="queue-options"' in page and "Carol" in agents.group(1)


def test_trainers_get_no_agent_picker_and_cannot_sort_by_agent(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls_of_the_day(session, store, envelope, day)
    login(client, make_user(session, role=Role.TRAINER))
    page = client.get("/calls/", query_string={"sort": "agent"}).get_data(as_text=True)
    assert "agent-options" not in page and "Carol" not in page
    assert 'aria-sort="descending"' in page  # fell back to newest first
    assert "sort=agent" not in page


def bulk(client: FlaskClient, action: str, ids: list[str], **fields: str) -> object:
    data = {"csrf_token": csrf_token(client, "/calls/"), "recording_id": ids, "back": "queue=sales", **fields}
    return client.post(f"/calls/{action}", data=data)


def test_tags_are_added_in_bulk_shown_filtered_and_audited(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls = calls_of_the_day(session, store, envelope, day)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)

    response = bulk(client, "tag", [calls["a"].id, calls["c"].id], tag="  Churn   risk ")
    assert response.status_code == 302 and response.headers["Location"] == "/calls/?queue=sales"  # type: ignore[attr-defined]
    # The same tag in another case is the same tag: nothing new on "a".
    tags.tag_calls(session, actor=actor_of(supervisor), recording_ids=[calls["a"].id], tag="churn RISK")

    window = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}
    page = client.get("/calls/", query_string={**window, "tag": "CHURN RISK"}).get_data(as_text=True)
    assert f'href="/calls/{calls["a"].id}"' in page and f'href="/calls/{calls["c"].id}"' in page
    assert f'href="/calls/{calls["b"].id}"' not in page
    assert ">Churn risk</a>" in page
    assert tags.tags_of(session, [calls["a"].id]) == {calls["a"].id: ["Churn risk"]}

    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "recording.tagged")).all()
    assert sorted(event.object_id for event in events if event.actor_id == supervisor.id) == sorted(
        [calls["a"].id, calls["c"].id]
    )
    assert all("Churn" not in str(event.details) for event in events)  # free text stays out of the trail


def test_tagging_a_call_the_actor_cannot_see_is_refused(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    hidden = make_recording(session, store, envelope, audio=b"RIFF", started_at=day, restricted=True)
    supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    with pytest.raises(NotFound) as refused:
        tags.tag_calls(session, actor=supervisor, recording_ids=[hidden.id], tag="x")
    assert refused.value.refusal is not None
    assert tags.tags_of(session, [hidden.id]) == {}


def test_csv_export_has_the_chosen_calls_escaped_and_is_audited(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    formula = make_recording(
        session, store, envelope, audio=b"RIFF", started_at=day, queue='=HYPERLINK("http://x")', agent_ref="@agent"
    )
    plain = make_recording(session, store, envelope, audio=b"RIFF", started_at=day, queue="sales", agent_ref="-7")
    other = make_recording(session, store, envelope, audio=b"RIFF", started_at=day)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    evaluate(session, plain, evaluator=supervisor, score=82.5)
    tags.tag_calls(session, actor=actor_of(supervisor), recording_ids=[plain.id], tag="+1 follow up")
    login(client, supervisor)

    response = bulk(client, "export.csv", [formula.id, plain.id])

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.headers["Content-Type"].startswith("text/csv")  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))  # type: ignore[attr-defined]
    assert [row["id"] for row in rows] == [formula.id, plain.id]  # only the chosen ones
    assert rows[0]["queue"] == '\'=HYPERLINK("http://x")' and rows[0]["agent_ref"] == "'@agent"
    assert rows[1]["agent_ref"] == "'-7" and rows[1]["tags"] == "'+1 follow up"
    assert (rows[1]["score"], rows[1]["evaluator"]) == ("82.5", supervisor.username)
    assert rows[1]["external_call_id"] == plain.external_call_id
    assert "transcript" not in ",".join(rows[0].keys())
    exported = session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "recording.list_exported"))
    assert set(exported) >= {formula.id, plain.id} and other.id not in set(exported)


def test_select_all_on_page_exports_the_page_and_trainers_get_no_agents(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    call = make_recording(session, store, envelope, audio=b"RIFF", started_at=day, agent_ref="agent-7")
    compliance = actor_of(make_user(session, role=Role.COMPLIANCE))
    trainer_like = actor_of(make_user(session, role=Role.TRAINER))
    assert "agent-7" in export_calls_csv(session, actor=compliance, recording_ids=[call.id])
    assert "agent-7" not in export_calls_csv(session, actor=trainer_like, recording_ids=[call.id])


def test_bulk_assign_puts_the_chosen_calls_on_the_supervisors_list(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    calls = calls_of_the_day(session, store, envelope, day)
    lead = make_user(session, role=Role.QA_SUPERVISOR)
    assignee = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, lead)
    page = client.get("/calls/").get_data(as_text=True)
    assert f'<option value="{assignee.id}">' in page

    data = {
        "csrf_token": csrf_token(client, "/calls/"),
        "all_on_page": "1",
        "page_id": [calls["a"].id, calls["b"].id],
        "assignee_id": assignee.id,
        "due": "9999-12-31",
    }
    refused = client.post("/calls/assign", data=data, follow_redirects=True).get_data(as_text=True)
    assert "a due date is at most a year ahead" in refused
    assert session.scalars(select(Assignment.recording_id)).all() == []

    data["due"] = (date.today() + timedelta(days=14)).isoformat()
    assert client.post("/calls/assign", data=data).status_code == 302

    assigned = session.scalars(select(Assignment.recording_id).where(Assignment.assignee_id == assignee.id)).all()
    assert sorted(assigned) == sorted([calls["a"].id, calls["b"].id])


def test_saved_searches_belong_to_their_owner(client: FlaskClient, session: Session) -> None:
    owner = make_user(session, role=Role.QA_SUPERVISOR)
    other = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, owner)
    data = {
        "csrf_token": csrf_token(client, "/calls/"),
        "name": "Billing, low scores",
        "back": "queue=billing&score_max=50&cursor=abc&sort=score&dir=asc",
    }
    assert client.post("/calls/saved-searches", data=data).status_code == 302

    page = client.get("/calls/").get_data(as_text=True)
    assert '<a href="/calls/?queue=billing&amp;score_max=50&amp;sort=score&amp;dir=asc">Billing, low scores</a>' in page
    (saved,) = saved_searches.saved_searches(session, actor=actor_of(owner))

    login(client, other)
    assert "Billing, low scores" not in client.get("/calls/").get_data(as_text=True)
    token = csrf_token(client, "/calls/")
    assert client.post(f"/calls/saved-searches/{saved.id}/delete", data={"csrf_token": token}).status_code == 404
    assert saved_searches.saved_searches(session, actor=actor_of(owner)) == [saved]

    login(client, owner)
    token = csrf_token(client, "/calls/")
    assert client.post(f"/calls/saved-searches/{saved.id}/delete", data={"csrf_token": token}).status_code == 302
    assert saved_searches.saved_searches(session, actor=actor_of(owner)) == []


def test_a_bulk_action_without_calls_says_so_on_the_list(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    response = bulk(client, "tag", [], tag="churn")
    assert response.status_code == 302  # type: ignore[attr-defined]
    page = client.get(response.headers["Location"]).get_data(as_text=True)  # type: ignore[attr-defined]
    assert '<p class="flash error" role="status">Select at least one call.</p>' in page
