"""A call an erasure kept for a legal duty (a hold, evidence of an agreement) serves that duty only (Art. 17(3)), and
compliance answers for it: it is out of everyday use for every other role. Found by exploratory testing: trainers and
research selection left it out, but QA supervisors still found its words in search, listed, read and played it, as
if the customer had never asked for erasure."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.search import search_calls
from recordings_service.db import utcnow
from recordings_service.models import Customer, Recording
from recordings_service.models.account import Role
from recordings_service.models.privacy import customer_asked_for_erasure
from recordings_service.privacy import holds, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.privacy.withdrawal import withdraw_request
from recordings_service.recordings import visible_to
from recordings_service.research.selection import BatchCriteria, candidates_matching
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.recordings import make_token
from tests.factories.research import research_call
from tests.factories.search import on_day, random_day, transcribed_call

SUPERVISOR = Actor(id=None, name="qa", role=Role.QA_SUPERVISOR)
WORDS = ["the contract starts in May", "my meter number is 4711"]


@pytest.fixture
def day() -> datetime:
    return random_day()


def held_call(session: Session, store: S3ObjectStore, envelope: Envelope, person: Customer, day: datetime) -> Recording:
    call = transcribed_call(session, store, envelope, started_at=day, lines=WORDS, customer_id=person.id)
    holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=call.id)
    return call


def erasure(session: Session, person: Customer) -> str:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow()
    )
    return request.id


def erase(session: Session, store: S3ObjectStore, person: Customer) -> None:
    request_id = erasure(session, person)
    done = fulfil_request(session, store, actor=OFFICER, request_id=request_id, answer=Answer(), zone=ORG_ZONE)
    assert done.request.outcome["kept"], "the hold keeps the call"
    session.commit()


def visible(session: Session, recording: Recording, role: str) -> bool:
    actor = Actor(id=None, name=role, role=role)
    query = select(Recording.id).where(Recording.id == recording.id, visible_to(actor))
    return session.scalar(query) is not None


def found_by(session: Session, actor: Actor, day: datetime) -> list[str]:
    page = search_calls(session, actor=actor, query="meter", filters=on_day(day))
    return [item.recording.id for item in page.items]


def test_a_kept_call_is_searched_listed_and_read_by_compliance_only(
    session: Session, store: S3ObjectStore, envelope: Envelope, client: FlaskClient, day: datetime
) -> None:
    person = customer(session)
    kept = held_call(session, store, envelope, person, day)
    assert found_by(session, SUPERVISOR, day) == [kept.id]

    erase(session, store, person)

    assert found_by(session, SUPERVISOR, day) == []
    assert found_by(session, Actor(id=None, name="compliance", role=Role.COMPLIANCE), day) == [kept.id]
    window = urlencode({"started_from": day.isoformat(), "started_to": (day + timedelta(days=1)).isoformat()})
    for role in ("qa_supervisor", "trainer", "compliance"):
        token = {"Authorization": f"Bearer {make_token(session, role=role, scope='read')}"}
        listed = client.get(f"/api/v1/recordings?{window}", headers=token).get_json()["items"]
        assert [item["id"] for item in listed] == ([kept.id] if role == "compliance" else []), role
        status = 200 if role == "compliance" else 404
        assert client.get(f"/api/v1/recordings/{kept.id}", headers=token).status_code == status, role
        if role != "trainer":  # a trainer plays no original audio, kept or not
            assert client.get(f"/api/v1/recordings/{kept.id}/audio", headers=token).status_code == status, role


def test_a_call_the_customer_makes_after_the_erasure_is_in_everyday_use(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    person = customer(session)
    kept = held_call(session, store, envelope, person, day)
    erase(session, store, person)

    later = transcribed_call(
        session, store, envelope, started_at=day + timedelta(hours=1), lines=WORDS, customer_id=person.id
    )

    assert found_by(session, SUPERVISOR, day) == [later.id]
    assert not visible(session, kept, Role.QA_SUPERVISOR) and visible(session, later, Role.QA_SUPERVISOR)


def test_a_call_the_customer_makes_after_the_erasure_is_a_candidate_for_research_and_training(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    """Found by a data-protection officer's pass: once an erasure was carried out, every later call of the customer
    was left out of research and training as `erasure_requested`, for good, where only the calls it kept are."""
    person = customer(session)
    kept = held_call(session, store, envelope, person, day)
    erase(session, store, person)
    later = research_call(session, store, envelope, customer_id=person.id, started_at=day + timedelta(days=1))

    flagged = session.scalars(
        select(Recording.id).where(Recording.customer_id == person.id, customer_asked_for_erasure())
    ).all()
    assert flagged == [kept.id]  # the clause training's rules and eligibility share with research
    on_its_day = later.started_at.date().isoformat()
    criteria = BatchCriteria.model_validate({"from": on_its_day, "to": on_its_day, "sample_size": 10, "seed": 1})
    study_end = later.started_at.date() + timedelta(days=30)
    found = candidates_matching(session, actor=OFFICER, criteria=criteria, study_end=study_end, redacted_audio=True)
    assert {call.id: call.reason for call in found}[later.id] is None


def test_a_pending_or_withdrawn_erasure_leaves_the_calls_in_use(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    person = customer(session)
    call = held_call(session, store, envelope, person, day)
    request_id = erasure(session, person)
    session.flush()
    assert visible(session, call, Role.QA_SUPERVISOR)  # not yet carried out: the request is being assessed

    withdraw_request(session, actor=OFFICER, request_id=request_id, reason="registered for the wrong customer")
    session.flush()

    assert visible(session, call, Role.QA_SUPERVISOR)


def test_compliance_sees_on_the_call_page_why_nobody_else_does(
    session: Session, store: S3ObjectStore, envelope: Envelope, client: FlaskClient, day: datetime
) -> None:
    person = customer(session)
    kept = held_call(session, store, envelope, person, day)
    erase(session, store, person)
    login(client, make_user(session, role=Role.COMPLIANCE))

    page = client.get(f"/calls/{kept.id}").get_data(as_text=True)

    assert "Kept after erasure" in page and "shown to compliance alone" in page
