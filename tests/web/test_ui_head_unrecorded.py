"""A HEAD of a page (a link checker, a browser's prefetch) sends no page, yet Flask answers it through the GET view,
which records the read it makes. The JSON API already committed nothing on a HEAD; the pages decided it page by
page, and the call list did not: a HEAD of `/calls/?q=…` recorded a `recording.searched` naming the calls whose
snippets nobody saw. Now one rule covers every page as it covers the API: a HEAD keeps nothing but its refusal.
"""

from __future__ import annotations

import secrets

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import login, make_user
from tests.factories.audit import events, newest_seq
from tests.factories.reviews import make_transcribed_call
from tests.factories.search import random_day, transcribed_call
from tests.routes import RULES

# Every page that takes no argument in its path; the API has its own test (test_api_head_unrecorded.py).
PAGES = sorted(
    rule.rule
    for rule in RULES
    if "GET" in (rule.methods or ()) and not rule.arguments and not rule.rule.startswith(("/api/", "/static"))
)
ROLES = [role for role in Role if role is not Role.SERVICE]


def recorded_since(session: Session, seq: int) -> list[str]:
    found = session.scalars(select(AuditEvent.action).where(AuditEvent.seq > seq).order_by(AuditEvent.seq))
    return list(found)


def test_a_head_of_a_search_records_no_search_and_the_get_does(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    word = "quokka" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))
    call = transcribed_call(session, runtime.store, runtime.envelope, started_at=random_day(), lines=[f"A {word}."])
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)
    session.commit()

    head = client.head(f"/calls/?q={word}")
    assert (head.status_code, head.data) == (200, b"")
    assert [event.actor_id for event in events(session, "recording.searched")].count(supervisor.id) == 0

    get = client.get(f"/calls/?q={word}")
    assert get.status_code == 200 and call.id in get.get_data(as_text=True)
    [searched] = [event for event in events(session, "recording.searched") if event.actor_id == supervisor.id]
    assert searched.details["snippet_recordings"] == call.id


@pytest.mark.parametrize("role", ROLES)
def test_a_head_of_any_page_keeps_nothing_but_a_refusal(
    client: FlaskClient, session: Session, runtime: Runtime, role: Role
) -> None:
    make_transcribed_call(session, runtime.store, runtime.envelope)
    login(client, make_user(session, role=role))
    session.commit()

    kept = {}
    for path in PAGES:
        before = newest_seq(session)
        status = client.head(path).status_code
        added = recorded_since(session, before)
        if added and not (status == 403 and len(added) == 1):
            kept[path] = (status, added)
    assert kept == {}
