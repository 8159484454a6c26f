"""Every refused decision on a batch is on its trail, as the four-eyes and safeguard refusals always were: found by
exploratory testing as two officers at work, the second of two approving (or rejecting) one draft at once, or
deciding a confirmation the first had just accepted, was refused 409 with nothing recorded; so were the approval of
a batch whose access window had ended and of one that selected no calls."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.audit import events
from tests.factories.recordings import make_token
from tests.factories.research import (
    downloaded_with_partner_token,
    draft,
    institute,
    research_call,
)

API = "/api/v1/research/batches"


def _officer(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}


def _rules(session: Session, action: str, batch_id: str) -> list[str]:
    session.expire_all()
    return [event.details["rule"] for event in events(session, action, batch_id)]


def test_a_second_decision_on_a_decided_draft_is_refused_and_audited(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    made = draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id)
    session.commit()
    first, second = _officer(session), _officer(session)

    assert client.post(f"{API}/{made.id}/approve", headers=first).status_code == 200
    again = client.post(f"{API}/{made.id}/approve", headers=second)
    late_no = client.post(f"{API}/{made.id}/reject", json={"reason": "not this study"}, headers=second)

    assert (again.status_code, late_no.status_code) == (409, 409)
    assert _rules(session, "research.approval_refused", made.id) == ["not_draft"]
    assert _rules(session, "research.rejection_refused", made.id) == ["not_draft"]
    assert len(events(session, "research.batch_approved", made.id)) == 1


def test_an_approval_of_an_ended_window_or_an_empty_batch_is_refused_and_audited(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    creator = make_user(session, role=Role.COMPLIANCE)
    empty = draft(session, runtime, creator, institute(session).id, study="No calls in November")
    research_call(session, runtime.store, runtime.envelope)
    ended = draft(session, runtime, creator, institute(session).id)
    ended.access_start, ended.access_end = utcnow() - timedelta(days=3), utcnow() - timedelta(minutes=1)
    session.commit()
    approver = _officer(session)

    assert client.post(f"{API}/{empty.id}/approve", headers=approver).status_code == 409
    assert client.post(f"{API}/{ended.id}/approve", headers=approver).status_code == 409

    assert _rules(session, "research.approval_refused", empty.id) == ["batch_empty"]
    assert _rules(session, "research.approval_refused", ended.id) == ["window_over"]


def test_deciding_a_confirmation_already_decided_is_refused_and_audited(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch, plain = downloaded_with_partner_token(session, runtime)
    form = {"method": "destroyed", "date": utcnow().date().isoformat(), "signer": "A. Researcher"}
    form |= {"title": "Head of lab", "statement": "Deleted."}
    sent = client.post(f"{API}/{batch.id}/confirmation", data=form, headers={"Authorization": f"Bearer {plain}"})
    assert sent.status_code == 201, sent.json
    first, second = _officer(session), _officer(session)

    assert client.post(f"{API}/{batch.id}/confirmation/accept", headers=first).status_code == 200
    again = client.post(f"{API}/{batch.id}/confirmation/accept", headers=second)
    sent_back = client.post(f"{API}/{batch.id}/confirmation/reject", json={"reason": "no certificate"}, headers=second)

    assert (again.status_code, sent_back.status_code) == (409, 409)
    refused = events(session, "research.confirmation_decision_refused", batch.id)
    assert [(e.details["rule"], e.details["decision"]) for e in refused] == [
        ("none_pending", "accept"),
        ("none_pending", "reject"),
    ]
    assert len(events(session, "research.batch_closed", batch.id)) == 1
