"""`GET /api/v1/audit-events`: the audit trail for the security team's SIEM, polled with an `audit` token.

Compliance officers read the trail on its page (`/audit/`) and export it as CSV, but a SIEM needs an API it can poll
with a token, and there was none: no token scope reached `audit.read`."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.audit import Actor, AuditKeys, record_event
from recordings_service.config import Settings
from recordings_service.db import new_id, utcnow
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM, login, make_user
from tests.factories.audit import events, newest_seq
from tests.factories.recordings import make_token
from web import cli, cli_support
from web.ui.audit import CSV_COLUMNS

PATH = "/api/v1/audit-events"
# What each item carries: the CSV export's columns and the rest of the chain (the event's id, its predecessor's hash
# and its key), so that a SIEM can check continuity and, holding the key, each hash.
ITEM_FIELDS = {*CSV_COLUMNS, "id", "prev_hash", "key_id"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def poll(client: FlaskClient, token: str, **query: Any) -> dict[str, Any]:
    response = client.get(PATH, query_string=query, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def siem_token(session: Session) -> str:
    return make_token(session, role=Role.COMPLIANCE, scope="audit")


def write(session: Session, action: str, count: int, **fields: Any) -> list[str]:
    written = [record_event(session, actor=SYSTEM, action=action, **fields).id for _ in range(count)]
    session.commit()
    return written


def rehashed(item: dict[str, Any], keys: AuditKeys | None) -> str:
    """The item's hash as a SIEM holding the audit key recomputes it from the item alone."""
    content = {name: item[name] for name in ITEM_FIELDS - {"prev_hash", "hash", "key_id"}}
    message = (item["prev_hash"] + json.dumps(content, sort_keys=True, separators=(",", ":"))).encode()
    if item["key_id"] is None:
        return hashlib.sha256(message).hexdigest()
    assert keys is not None
    return hmac.new(keys.secrets[item["key_id"]], message, hashlib.sha256).hexdigest()


def test_a_poller_following_the_tail_sees_every_event_once_in_order_while_events_are_written(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    token = siem_token(session)
    start = newest_seq(session)
    written = write(session, "siem.before", 7)
    pages, cursor = [], start
    for round_ in range(40):
        page = poll(client, token, after_seq=cursor, limit=3)
        pages.append(page)
        if len(page["items"]) == 3:
            assert page["next_after_seq"] == page["items"][-1]["seq"]
        else:  # read through the newest event there was: its own, or the last one shown
            assert page["next_after_seq"] >= max([cursor, *(item["seq"] for item in page["items"])])
        cursor = page["next_after_seq"]
        if round_ < 6:  # new events arrive between polls
            written += write(session, "siem.during", 2)
        elif len(page["items"]) < 3:
            break  # caught up: only the poller's own last read was left
    else:
        pytest.fail("the poller never caught up")

    seen = [item for page in pages for item in page["items"]]
    seqs = [item["seq"] for item in seen]
    # Every event once, in order, without a gap: the trail as the database holds it from where the poller began.
    assert seqs == list(range(start + 1, cursor + 1))
    held = session.scalars(select(AuditEvent.id).where(AuditEvent.seq > start).order_by(AuditEvent.seq)).all()
    assert [item["id"] for item in seen] == list(held)[: len(seen)]
    assert [item["id"] for item in seen if item["action"].startswith("siem.")] == written
    # Each item links to the one before it, across pages, and its hash is what its fields give.
    keys = AuditKeys.from_settings(settings)
    for earlier, later in pairwise(seen):
        assert later["prev_hash"] == earlier["hash"]
    assert all(set(item) == ITEM_FIELDS and rehashed(item, keys) == item["hash"] for item in seen)
    # Each poll is a read of the trail, and the next page holds it: all but the last are among the items.
    reads = events(session, "audit.events_listed", after=start)
    assert len(reads) == len(pages)
    assert [item["id"] for item in seen if item["action"] == "audit.events_listed"] == [r.id for r in reads[:-1]]


def test_the_filters_of_the_audit_page_narrow_the_feed(client: FlaskClient, session: Session) -> None:
    token = siem_token(session)
    start = newest_seq(session)
    officer = make_user(session, role=Role.COMPLIANCE, username=f"Feed{start}")
    officer_actor = Actor(id=officer.id, name=officer.username, role=officer.role)
    call_id = new_id()
    placed = record_event(
        session,
        actor=officer_actor,
        action="legal_hold.placed",
        object_type="legal_hold",
        details={"recording_id": call_id},
    ).id
    played = record_event(
        session, actor=officer_actor, action="recording.played", object_type="recording", object_id=call_id
    ).id
    other = write(session, "siemfilter.other", 1, object_type="user", object_id=officer.id)
    session.commit()

    def ids(**query: Any) -> list[str]:
        items = poll(client, token, after_seq=start, **query)["items"]
        return [item["id"] for item in items if item["action"] != "audit.events_listed"]

    assert ids(action="recording.played") == [played]
    assert ids(action="LEGAL_HOLD.*") == [placed]
    assert ids(actor=officer.username.upper()) == [placed, played]
    assert ids(actor=officer.id) == [placed, played]
    assert ids(object_type="User") == other
    # A call's trail: its own events and the hold naming it in a detail, its id typed in any case.
    assert ids(object_id=call_id.lower()) == [placed, played]
    assert ids(object_id=call_id, action="recording.*") == [played]
    moment = session.get(AuditEvent, played).occurred_at  # type: ignore[union-attr]
    assert ids(since=moment.isoformat(), actor=officer.id) == [played]
    assert ids(until=moment.isoformat(), actor=officer.id) == [placed]
    # Paging goes on under a filter from the last item shown.
    first = poll(client, token, after_seq=start, actor=officer.id, limit=1)
    assert [item["id"] for item in first["items"]] == [placed]
    rest = poll(client, token, after_seq=first["next_after_seq"], actor=officer.id, limit=1)
    assert [item["id"] for item in rest["items"]] == [played]
    newest = newest_seq(session)
    assert poll(client, token, after_seq=rest["next_after_seq"], actor=officer.id) == {
        "items": [],
        "next_after_seq": newest,  # read through: the events that did not match are not read again
    }


def test_a_filtered_poller_that_finds_nothing_goes_on_from_the_newest_event_it_read_through(
    client: FlaskClient, session: Session
) -> None:
    """Noted as the feed was built: a page that matched nothing sent back the `after_seq` it was asked with, so a SIEM
    following one action read every other event written since its last match again at each poll."""
    token = siem_token(session)
    start = newest_seq(session)
    write(session, "siemfilter.other", 5)
    newest = newest_seq(session)

    quiet = poll(client, token, after_seq=start, action="siemfilter.wanted")

    assert quiet == {"items": [], "next_after_seq": newest}
    [wanted] = write(session, "siemfilter.wanted", 1)
    found = poll(client, token, after_seq=quiet["next_after_seq"], action="siemfilter.wanted")
    assert [item["id"] for item in found["items"]] == [wanted]


def test_each_read_is_audited_with_counts_and_the_names_of_its_filters_only(
    client: FlaskClient, session: Session
) -> None:
    officer = make_user(session, role=Role.COMPLIANCE)
    _, token = tokens.create_token(session, actor=SYSTEM, user=officer, scope="audit")
    start = newest_seq(session)
    write(session, "siemread.one", 3)
    since = (utcnow() - timedelta(hours=1)).isoformat()

    page = poll(client, token, after_seq=start, limit=2, action="siemread.*", actor="system", since=since)

    assert [item["action"] for item in page["items"]] == ["siemread.one", "siemread.one"]
    [read] = events(session, "audit.events_listed", after=start)
    assert (read.actor_id, read.actor_name, read.role, read.object_type) == (
        officer.id,
        officer.username,
        "compliance",
        "audit_events",
    )
    assert read.details == {
        "filters": ["action", "actor", "since"],  # never what was typed in them
        "after_seq": start,
        "limit": 2,
        "results": 2,
        "through_seq": page["next_after_seq"],
    }
    empty = poll(client, token, after_seq=read.seq, action="nothing.like.this")
    assert empty == {"items": [], "next_after_seq": read.seq}
    assert events(session, "audit.events_listed", after=read.seq)[0].details["through_seq"] == read.seq


@pytest.mark.parametrize(
    ("role", "scope", "says"),
    [
        (Role.QA_SUPERVISOR, "read", "your role does not permit this"),
        (Role.COMPLIANCE, "compliance", "this token's scope (compliance) does not permit this; a token of scope audit"),
    ],
)
def test_a_token_without_audit_read_is_refused_and_the_refusal_audited(
    client: FlaskClient, session: Session, role: Role, scope: str, says: str
) -> None:
    token = make_token(session, role=role, scope=scope)
    start = newest_seq(session)  # read with the trail's head held: no other test's event comes after it

    refused = client.get(PATH, headers=bearer(token))

    assert refused.status_code == 403
    assert refused.get_json()["message"].startswith(says)
    [denied] = events(session, "access.denied", after=start)
    assert denied.role == role.value
    assert denied.details == {"endpoint": "audit_events_api.list_events", "method": "GET"}
    assert events(session, "audit.events_listed", after=start) == []


def test_a_signed_in_compliance_officer_reads_it_and_a_supervisor_is_refused(
    client: FlaskClient, session: Session
) -> None:
    start = newest_seq(session)
    login(client, make_user(session, role=Role.COMPLIANCE))
    assert client.get(PATH, query_string={"after_seq": start}).status_code == 200
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert client.get(PATH).status_code == 403


@pytest.mark.parametrize(
    ("query", "field", "error"),
    [
        ({"from": "2026-01-01T00:00:00+00:00"}, "from", "unknown_field"),
        ({"limit": "0"}, "limit", None),
        ({"limit": "501"}, "limit", None),
        ({"after_seq": "-1"}, "after_seq", None),
        ({"since": "2026-01-02T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"}, "until", "out_of_range"),
        ({"since": "2026-01-01T00:00:00"}, "since", "timezone_required"),
        ({"action": " "}, "action", None),
        ({"object_type": "x" * 33}, "object_type", None),
    ],
)
def test_what_it_cannot_read_is_refused_naming_the_parameter(
    client: FlaskClient, session: Session, query: dict[str, str], field: str, error: str | None
) -> None:
    token = siem_token(session)
    start = newest_seq(session)
    refused = client.get(PATH, query_string=query, headers=bearer(token))
    body = refused.get_json()
    assert (refused.status_code, body["field"]) == (422, field), body
    if error is not None:
        assert body["error"] == error
    assert events(session, "audit.events_listed", after=start) == []


def test_a_number_past_the_newest_event_is_refused_not_waited_at(client: FlaskClient, session: Session) -> None:
    """After a restore the trail numbers again from an earlier event: a poller waiting at its old number would pass
    over every event written until the trail caught up with it."""
    token = siem_token(session)
    newest = newest_seq(session)
    refused = client.get(PATH, query_string={"after_seq": newest + 1}, headers=bearer(token))
    assert refused.status_code == 422
    assert (refused.get_json()["error"], refused.get_json()["field"]) == ("out_of_range", "after_seq")
    assert poll(client, token, after_seq=newest)["items"] == []  # the newest number itself: nothing yet


def test_the_default_page_is_a_hundred_events_and_at_most_five_hundred(client: FlaskClient, session: Session) -> None:
    token = siem_token(session)
    start = newest_seq(session)
    write(session, "siempage.step", 501)
    assert len(poll(client, token, after_seq=start)["items"]) == 100
    assert len(poll(client, token, after_seq=start, limit=500)["items"]) == 500


def test_occurred_at_is_given_as_the_hash_covers_it(client: FlaskClient, session: Session) -> None:
    """With its microseconds always (`isoformat()` drops them when they are 0, and the hash would not match)."""
    start = newest_seq(session)
    event_id = write(session, "siemtime.one", 1)[0]
    [item] = [i for i in poll(client, siem_token(session), after_seq=start)["items"] if i["id"] == event_id]
    held = session.get(AuditEvent, event_id)
    assert held is not None
    assert item["occurred_at"] == held.occurred_at.isoformat(timespec="microseconds")
    assert item["occurred_at"].endswith("+00:00")


def test_callvault_tokens_create_scope_audit_makes_a_read_only_token_of_the_usual_lifetime(
    client: FlaskClient, session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: runtime)
    officer = make_user(session, role=Role.COMPLIANCE, username=f"siem-{newest_seq(session)}")
    before = utcnow()

    created = CliRunner().invoke(cli.main, ["tokens", "create", officer.username, "--scope", "audit"])

    assert created.exit_code == 0, created.output
    token = tokens.authenticate_token(session, created.stdout.strip())
    assert (token.user_id, token.scope) == (officer.id, "audit")
    # 90 days, as any token not for ingest, compliance or research: a poller is not renewed every month.
    assert token.expires_at is not None
    assert before + timedelta(days=90) <= token.expires_at <= utcnow() + timedelta(days=90)
    longest = CliRunner().invoke(cli.main, ["tokens", "create", officer.username, "--scope", "audit", "--days", "730"])
    assert longest.exit_code == 0, longest.output
    plain = created.stdout.strip()
    assert poll(client, plain, after_seq=newest_seq(session))["items"] == []
    # The trail and nothing else: the calls and the retention table are the officer's, not the token's.
    for elsewhere in ("/api/v1/recordings", "/api/v1/retention/policies", "/api/v1/legal-holds"):
        assert client.get(elsewhere, headers=bearer(plain)).status_code == 403, elsewhere
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    refused = CliRunner().invoke(cli.main, ["tokens", "create", supervisor.username, "--scope", "audit"])
    assert refused.exit_code == 1
    assert refused.stderr == "Error: scope: a qa_supervisor account can never use an audit token\n"


def test_the_api_document_describes_the_feed_under_audit_and_who_may_read_it(client: FlaskClient) -> None:
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][PATH]["get"]
    assert (operation["operationId"], operation["tags"]) == ("audit_events_api.list_events", ["audit"])
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert parameters == {"after_seq", "limit", "actor", "action", "object_type", "object_id", "since", "until"}
    assert "(`audit.read`: roles compliance; token scopes audit)" in operation["responses"]["403"]["description"]
