"""A subject request registered by mistake is withdrawn from its page, with a reason: closed with nothing carried
out. The only way to close one was to carry it out: an erasure request registered for the wrong customer stayed
open and overdue, or was closed by erasing that customer's calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, Recording, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import package_queue, request_lists, subjects
from recordings_service.privacy.withdrawal import withdraw_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token
from tests.factories.privacy import OFFICER, aged_call, customer
from tests.factories.recordings import make_token

FINNISH = {"Accept-Language": "fi"}


def test_an_erasure_request_for_the_wrong_customer_is_withdrawn_and_nothing_is_erased(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    wrong = customer(session)
    call = aged_call(
        session, store, envelope, started_at=datetime.now(UTC), purposes=["training"], customer_id=wrong.id
    )
    received = datetime.now(UTC) - timedelta(days=40)  # overdue by now
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=wrong.customer_ref, kind="erasure", received_at=received
    )
    session.commit()
    page = f"/subjects/{request.id}"
    withdraw = f"{page}/withdraw"
    assert f'action="{withdraw}"' in officer_client.get(page).get_data(as_text=True)

    # Refused without a reason: the page again, the field marked, in the reader's language.
    refused = officer_client.post(
        withdraw, data={"reason": " ", "csrf_token": csrf_token(officer_client, page)}, headers=FINNISH
    )
    assert refused.status_code == 422
    assert re.search(r'<input id="withdraw-reason"[^>]*aria-invalid="true"', refused.get_data(as_text=True))

    reason = "Registered for the wrong customer: the caller was someone else"
    done = officer_client.post(withdraw, data={"reason": reason, "csrf_token": csrf_token(officer_client, page)})

    assert done.status_code == 302
    session.expire_all()
    closed = session.get_one(SubjectRequest, request.id)
    assert not closed.open and closed.outcome == {"withdrawn": True, "reason": reason}
    assert session.get_one(Recording, call.id).status != "deleted"
    assert request.id not in {overdue.id for overdue in subjects.overdue_requests(session, now=datetime.now(UTC))}
    assert request_lists.count_overdue_requests(session, now=datetime.now(UTC)) == len(
        subjects.overdue_requests(session, now=datetime.now(UTC))
    )
    withdrawn = select(AuditEvent).where(
        AuditEvent.object_id == request.id, AuditEvent.action == "subject_request.withdrawn"
    )
    assert session.scalars(withdrawn).one().details["kind"] == "erasure"
    shown = officer_client.get(page).get_data(as_text=True)
    assert "Withdrawn on" in shown and reason in shown
    assert f'action="{page}/fulfil"' not in shown and f'action="{withdraw}"' not in shown

    with pytest.raises(Conflict):  # closed: nothing left to withdraw
        withdraw_request(session, actor=OFFICER, request_id=request.id, reason="again")


def test_an_access_package_still_queued_is_withdrawn_with_its_request(
    session: Session, runtime: Runtime, store: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    aged_call(session, store, envelope, started_at=datetime.now(UTC), purposes=["training"], customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=datetime.now(UTC)
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()

    withdraw_request(session, actor=OFFICER, request_id=request.id, reason="The same request was registered twice")
    session.commit()
    subject_access.build_packages(runtime)

    session.expire_all()
    closed = session.get_one(SubjectRequest, request.id)
    assert (closed.package_state, closed.package_ready_at, closed.outcome["withdrawn"]) == ("withdrawn", None, True)


def test_the_api_withdraws_a_request_once_naming_a_missing_reason(client: FlaskClient, session: Session) -> None:
    request = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="objection",
        received_at=datetime.now(UTC),
    )
    session.commit()
    path = f"/api/v1/subject-requests/{request.id}/withdraw"
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    missing = client.post(path, headers=officer, json={"reason": "  "})
    done = client.post(path, headers=officer, json={"reason": "Registered twice"})
    again = client.post(path, headers=officer, json={"reason": "Registered twice"})

    assert missing.status_code == 422 and missing.get_json()["field"] == "reason"
    assert done.status_code == 200
    answer = done.get_json()
    assert answer["outcome"] == {"withdrawn": True, "reason": "Registered twice"} and answer["completed_at"]
    assert again.status_code == 409
