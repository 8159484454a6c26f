"""Found by exploratory testing: a search of several words found a call only when one segment of its transcript said
them all, so "contract refund" missed a call saying "contract" in one segment and "refund" in the next, on both
databases, while the README promises a call is found when its transcript says every word. Each word (and each quoted
phrase, which stays within one segment) now counts wherever the call says it; the snippets show the segments saying
any of them, those saying more of them first."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls.search import search_calls
from recordings_service.calls.transcript_matches import said_in_transcripts
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.search import PLANS, QA, force_plan, found, on_day, random_day, transcribed_call


@pytest.fixture
def day() -> datetime:
    return random_day()


@pytest.mark.parametrize("plan", PLANS)
def test_words_said_in_different_segments_find_the_call(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    day: datetime,
    plan: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    force_plan(monkeypatch, plan)
    call = transcribed_call(
        session,
        store,
        envelope,
        started_at=day,
        lines=["Good morning.", "I read the contract terms.", "Refund requested by email.", "Bye."],
    )
    transcribed_call(
        session, store, envelope, started_at=day + timedelta(minutes=1), lines=["The contract is fine.", "Thanks."]
    )

    assert found(session, day, "contract refund") == [call.id]
    assert found(session, day, "refund contract", queue=call.queue) == [call.id]
    assert found(session, day, "the contract refund") == [call.id]  # "the", said in another segment
    assert found(session, day, "contract refund invoice") == []  # a word the call never says
    assert found(session, day, '"contract terms" refund') == [call.id]
    assert found(session, day, '"terms refund"') == []  # a quoted phrase is said within one segment
    assert found(session, day, '"contract terms refund"') == []


def test_the_snippets_show_the_segments_saying_the_words_those_saying_more_first(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    call = transcribed_call(
        session,
        store,
        envelope,
        started_at=day,
        lines=[
            "The contract was signed.",
            "Another contract came.",
            "A third contract.",
            "Hello there.",
            "A contract and a refund.",
            "Refund it, please.",
        ],
    )

    [item] = search_calls(session, actor=QA, query="contract refund", filters=on_day(day)).items

    assert item.recording.id == call.id
    # The one segment saying both comes first in choice; the shown ones keep the call's order.
    assert [hit.segment for hit in item.hits] == [0, 1, 4]
    assert {text.lower() for text, marked in item.hits[2].parts if marked} == {"contract", "refund"}
    [single] = search_calls(session, actor=QA, query="refund", filters=on_day(day)).items
    assert [hit.segment for hit in single.hits] == [4, 5]


def test_the_search_api_and_the_trainers_sample_words_match_across_segments(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    call = transcribed_call(
        session,
        store,
        envelope,
        started_at=day,
        lines=["About the contract.", "Refund wanted."],
    )
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    window = {"started_from": day.isoformat(), "started_to": (day + timedelta(days=1)).isoformat()}

    response = client.get("/api/v1/search", query_string={"q": "contract refund", **window})

    assert response.status_code == 200
    [item] = response.get_json()["items"]
    assert item["recording"]["id"] == call.id
    assert [hit["segment"] for hit in item["hits"]] == [0, 1]
    # A trainer's sample matches its words the same way.
    saying = select(Recording.id).where(Recording.id == call.id)
    assert session.scalars(saying.where(said_in_transcripts(session, "contract refund"))).all() == [call.id]
    assert session.scalars(saying.where(said_in_transcripts(session, '"contract refund"'))).all() == []
