"""An agent's feedback is paged, newest released first, in the API and on *My feedback*. Found by exploratory testing:
the list was read whole however many evaluations were released, and `limit`, `cursor` (and `limit=abc`) were
ignored with 200."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Evaluation
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, evaluation_token, make_agent_user, published_form, released
from tests.factories.recordings import make_recording
from web.ui import feedback as feedback_pages


def _five_released(session: Session, store: ObjectStore, envelope: Envelope, agent_ref: str) -> list[Evaluation]:
    """Five evaluations released to the agent, the newest released first (two in the same instant: the id decides)."""
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    made = [
        released(
            session,
            supervisor,
            form,
            make_recording(session, store, envelope, agent_ref=agent_ref),
            ["yes", "5", "yes"],
        )
        for _ in range(5)
    ]
    start = utcnow() - timedelta(hours=1)
    for minutes, evaluation in zip((1, 2, 2, 3, 4), made, strict=True):
        evaluation.released_at = start + timedelta(minutes=minutes)
    session.flush()
    return sorted(made, key=lambda evaluation: (evaluation.released_at, evaluation.id), reverse=True)


def test_the_api_pages_an_agents_feedback_by_cursor(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    agent = make_agent_user(session, "agent-paged")
    newest_first = _five_released(session, store, envelope, "agent-paged")
    me = evaluation_token(session, agent)
    session.commit()

    pages, cursor = [], ""
    for _ in range(5):
        page = client.get("/api/v1/feedback", query_string={"limit": 2, "cursor": cursor}, headers=me)
        assert page.status_code == 200, page.get_json()
        pages.append([item["id"] for item in page.get_json()["items"]])
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            break

    assert [len(ids) for ids in pages] == [2, 2, 1]
    assert [evaluation_id for ids in pages for evaluation_id in ids] == [e.id for e in newest_first]
    for query, field in (({"cursor": "not-a-cursor"}, "cursor"), ({"limit": "abc"}, "limit"), ({"limit": 0}, "limit")):
        refused = client.get("/api/v1/feedback", query_string=query, headers=me)
        assert (refused.status_code, refused.get_json()["field"]) == (422, field), query


def test_my_feedback_pages_on_to_earlier_feedback(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedback_pages, "PAGE_SIZE", 3)
    agent = make_agent_user(session, "agent-paged-ui")
    newest_first = _five_released(session, store, envelope, "agent-paged-ui")
    session.commit()
    login(client, agent)

    first = client.get("/feedback/").text
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(link).text

    assert [e.id in first for e in newest_first] == [True, True, True, False, False]
    assert [e.id in second for e in newest_first] == [False, False, False, True, True]
    assert "Earlier feedback" in first and "Earlier feedback" not in second and "Newest feedback" in second
