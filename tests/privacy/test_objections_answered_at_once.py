"""Two objection requests of one customer (a letter and an e-mail, received at different times) answered at once by
two officers: the later answer records what the customer objects to as the earlier left it. Found by an exploratory
pass, on PostgreSQL: the later read the customer before the earlier committed and waited only to write its own
column, so its outcome and its `customer.objection_recorded` event said the customer did not object to research,
which the earlier answer had just recorded; and where both objected to research, both flagged the institutes' batches
holding the customer's calls, a duplicate follow-up for the partner to acknowledge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.models import AuditEvent, Customer, ResearchBatch, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.runtime import SESSION_ENVELOPE, Runtime
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import make_user
from tests.factories.own_database import second_waits_for_first
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, research_call

RECEIVED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def two_requests(session: Session, customer_ref: str) -> tuple[str, str]:
    """A letter and, five minutes later, an e-mail: two objection requests of the customer."""
    letter, mail = (
        subjects.create_request(session, actor=OFFICER, customer_ref=customer_ref, kind="objection", received_at=at).id
        for at in (RECEIVED, RECEIVED + timedelta(minutes=5))
    )
    return letter, mail


def answer(request_id: str, *, research: bool | None, marketing: bool | None) -> Callable[[Session], object]:
    return lambda session: subjects.record_objection(
        session, actor=OFFICER, request_id=request_id, research=research, marketing=marketing
    )


def test_the_later_of_two_objections_answered_at_once_records_the_earlier(
    own_engine: Engine, envelope: Envelope
) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        known = customer(setup)
        letter, mail = two_requests(setup, known.customer_ref)
        setup.commit()

    later = second_waits_for_first(
        sessions, answer(letter, research=True, marketing=None), answer(mail, research=None, marketing=True)
    )

    assert isinstance(later, SubjectRequest), later
    both = {"research": True, "marketing": True}
    with sessions() as check:
        assert check.get_one(Customer, known.id).objects_to_research
        outcome = check.get_one(SubjectRequest, mail).outcome
        assert outcome == {"objects_to": both, "previously": {"research": True, "marketing": False}}
        event = check.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "customer.objection_recorded", AuditEvent.object_id == known.id)
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.details["request_id"] == mail
        assert (event.details["objects_to_research"], event.details["objects_to_marketing"]) == (True, True)


def test_two_objections_to_research_answered_at_once_flag_the_institute_once(
    own_engine: Engine, runtime: Runtime
) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: runtime.envelope})
    with sessions() as setup:
        known = customer(setup)
        research_call(setup, runtime.store, runtime.envelope, customer_id=known.id)
        held = as_ready(draft(setup, runtime, make_user(setup, role=Role.COMPLIANCE), institute(setup).id))
        downloaded(setup, held)
        letter, mail = two_requests(setup, known.customer_ref)
        setup.commit()

    later = second_waits_for_first(
        sessions, answer(letter, research=True, marketing=None), answer(mail, research=True, marketing=None)
    )

    assert isinstance(later, SubjectRequest), later
    with sessions() as check:
        flags = check.get_one(ResearchBatch, held.id).follow_up
        assert [(flag["kind"], flag["request_id"]) for flag in flags] == [("objection", letter)]
        flagged = select(AuditEvent).where(
            AuditEvent.object_id == held.id, AuditEvent.action == "research.objection_follow_up"
        )
        assert len(check.scalars(flagged).all()) == 1
