"""A refused decision on a subject request is on its trail, on the API and on the pages, as every refusal is.

Found by an exploratory pass over the data subjects' rights: answering an erasure request again, lifting it,
extending it or withdrawing it once answered were each answered 409 and left no audit event. The same pass found a
withdrawn access request (registered for the wrong customer) still fulfillable: its package of that customer's calls
was queued and built for download."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.privacy.withdrawal import withdraw_request
from tests.factories.accounts import csrf_token
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_token


def _rules(session: Session, request_id: str, action: str) -> list[str]:
    session.expire_all()
    return [event.details["rule"] for event in events(session, action, request_id)]


def test_refusals_of_an_answered_request_are_audited_on_the_api(client: FlaskClient, session: Session) -> None:
    request = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="erasure",
        received_at=datetime.now(UTC),
    )
    session.commit()
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    path = f"/api/v1/subject-requests/{request.id}"
    assert client.post(f"{path}/fulfil", json={}, headers=officer).status_code == 200

    answers = [
        client.post(f"{path}/fulfil", json={}, headers=officer),
        client.post(f"{path}/extend", json={"months": 1, "reason": "complex"}, headers=officer),
        client.post(f"{path}/lift", headers=officer),
        client.post(f"{path}/withdraw", json={"reason": "by mistake"}, headers=officer),
    ]

    assert [answer.status_code for answer in answers] == [409] * 4
    assert _rules(session, request.id, "subject_request.fulfil_refused") == ["request_answered"]
    assert _rules(session, request.id, "subject_request.extend_refused") == ["request_answered"]
    assert _rules(session, request.id, "subject_request.lift_refused") == ["not_restricting"]
    assert _rules(session, request.id, "subject_request.withdraw_refused") == ["request_closed"]


def test_refusals_on_the_request_page_are_audited(officer_client: FlaskClient, session: Session) -> None:
    request = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="objection",
        received_at=datetime.now(UTC),
    )
    withdraw_request(session, actor=OFFICER, request_id=request.id, reason="Registered twice")
    session.commit()
    page = f"/subjects/{request.id}"

    extended = officer_client.post(
        f"{page}/extend", data={"months": "1", "reason": "complex", "csrf_token": csrf_token(officer_client, page)}
    )
    lifted = officer_client.post(f"{page}/lift", data={"csrf_token": csrf_token(officer_client, page)})

    assert extended.status_code == 409 and lifted.status_code == 302
    assert _rules(session, request.id, "subject_request.extend_refused") == ["request_answered"]
    assert _rules(session, request.id, "subject_request.lift_refused") == ["not_restricting"]


def test_a_withdrawn_access_request_gets_no_package(client: FlaskClient, session: Session) -> None:
    wrong = customer(session)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=wrong.customer_ref, kind="access", received_at=datetime.now(UTC)
    )
    withdraw_request(session, actor=OFFICER, request_id=request.id, reason="Registered for the wrong customer")
    session.commit()
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    refused = client.post(f"/api/v1/subject-requests/{request.id}/fulfil", json={}, headers=officer)

    assert refused.status_code == 409
    session.expire_all()
    assert subjects.get_request(session, request.id).package_state is None
    assert _rules(session, request.id, "subject_request.fulfil_refused") == ["request_closed"]
