"""A follow-up ends when its request is withdrawn (registered by mistake) or its restriction lifted: the partner's
page says so, with nothing to acknowledge, and compliance no longer sees it outstanding.

Found by exploratory testing of research custody: both left the follow-up on the institute's batches for good. The
institute was told to destroy the calls of a customer who had never asked, and a restriction's "keep them unused
until you are told otherwise" was never followed by being told otherwise."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch, User
from recordings_service.privacy.restriction import lift_restriction, restrict_processing
from recordings_service.privacy.subjects import create_request
from recordings_service.privacy.withdrawal import withdraw_request
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call
from tests.factories.staff import client_of


def held_batch(session: Session, runtime: Runtime, officer: User) -> tuple[ResearchBatch, str]:
    """A batch downloaded with a call of a new customer in it; the customer's reference."""
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    batch = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, batch)
    return batch, person.customer_ref


def test_a_withdrawn_erasure_request_ends_its_follow_up(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    batch, ref = held_batch(session, runtime, officer)
    request = create_request(session, actor=OFFICER, customer_ref=ref, kind="erasure", received_at=utcnow())
    session.commit()

    withdraw_request(session, actor=OFFICER, request_id=request.id, reason="registered for the wrong customer")
    session.commit()

    [flag] = client_of(app, officer).get(f"/api/v1/research/batches/{batch.id}").json["follow_up"]
    assert (flag["kind"], flag["ended"], flag["acknowledge"]) == ("erasure", "withdrawn", None)
    assert flag["ended_at"] is not None and flag["acknowledged_at"] is None
    [ended] = events(session, "research.follow_up_ended", batch.id)
    assert ended.details == {"request_id": request.id, "why": "withdrawn"}
    page = client_of(app, partner(session, batch.institute_id)).get(f"/partner/batches/{batch.id}")
    text = page.get_data(as_text=True)
    assert "the request was registered by mistake; nothing to do for it" in text
    assert "Acknowledge</button>" not in text
    listed = client_of(app, officer).get("/research/").get_data(as_text=True)
    assert "not yet acknowledged by the institute" not in listed


def test_a_lifted_restriction_ends_its_follow_up(app: Flask, session: Session, runtime: Runtime, officer: User) -> None:
    batch, ref = held_batch(session, runtime, officer)
    request = create_request(session, actor=OFFICER, customer_ref=ref, kind="restriction", received_at=utcnow())
    restrict_processing(session, actor=OFFICER, request_id=request.id)
    session.commit()

    lift_restriction(session, actor=OFFICER, request_id=request.id)
    session.commit()

    [flag] = client_of(app, officer).get(f"/api/v1/research/batches/{batch.id}").json["follow_up"]
    assert (flag["kind"], flag["ended"], flag["acknowledge"]) == ("restriction", "lifted", None)
    assert [event.details["why"] for event in events(session, "research.follow_up_ended", batch.id)] == ["lifted"]
    page = client_of(app, partner(session, batch.institute_id)).get(f"/partner/batches/{batch.id}")
    text = page.get_data(as_text=True)
    assert "you may use these calls again" in text and "Acknowledge</button>" not in text


def test_a_restriction_lifted_while_another_is_in_force_ends_no_follow_up_until_the_last_is_lifted(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    """Found by exploratory testing: lifting one of two restrictions told the institute it might use the calls
    again while the other still kept them restricted."""
    batch, ref = held_batch(session, runtime, officer)
    first, second = (
        create_request(session, actor=OFFICER, customer_ref=ref, kind="restriction", received_at=utcnow())
        for _ in range(2)
    )
    restrict_processing(session, actor=OFFICER, request_id=first.id)
    restrict_processing(session, actor=OFFICER, request_id=second.id)
    session.commit()
    partner_browser = client_of(app, partner(session, batch.institute_id))

    lift_restriction(session, actor=OFFICER, request_id=first.id)
    session.commit()

    flags = client_of(app, officer).get(f"/api/v1/research/batches/{batch.id}").json["follow_up"]
    assert [(flag["request_id"], flag["ended"]) for flag in flags] == [(first.id, None), (second.id, None)]
    assert events(session, "research.follow_up_ended", batch.id) == []
    assert "you may use these calls again" not in partner_browser.get(f"/partner/batches/{batch.id}").text

    lift_restriction(session, actor=OFFICER, request_id=second.id)
    session.commit()

    flags = client_of(app, officer).get(f"/api/v1/research/batches/{batch.id}").json["follow_up"]
    assert [(flag["request_id"], flag["ended"]) for flag in flags] == [(first.id, "lifted"), (second.id, "lifted")]
    ended = events(session, "research.follow_up_ended", batch.id)
    assert sorted(event.details["request_id"] for event in ended) == sorted([first.id, second.id])
    assert "you may use these calls again" in partner_browser.get(f"/partner/batches/{batch.id}").text
