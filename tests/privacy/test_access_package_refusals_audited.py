"""A refused download of a customer's access package leaves its audit event, as a refused research download does.

Found by review: asking for a package that expired, was withdrawn by an erasure, was never built, or belongs to a
request of another kind answered 409 with nothing on the trail, while the package is a copy of every call of the
customer: who tried to take one after it was gone is compliance's business."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_token

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def officer(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}


def refused_rules(session: Session, request_id: str) -> list[object]:
    query = select(AuditEvent).where(
        AuditEvent.action == "subject_access.download_refused", AuditEvent.object_id == request_id
    )
    return [event.details.get("rule") for event in session.scalars(query.order_by(AuditEvent.seq))]


def request_of(session: Session, kind: str) -> SubjectRequest:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer(session).customer_ref, kind=kind, received_at=NOW
    )
    session.commit()
    return request


def test_a_package_of_another_kind_of_request_is_refused_on_the_trail(
    client: FlaskClient, session: Session, officer: dict[str, str]
) -> None:
    request = request_of(session, "objection")
    answer = client.get(f"/api/v1/subject-requests/{request.id}/package", headers=officer)
    assert answer.status_code == 409
    assert refused_rules(session, request.id) == ["other_kind"]


def test_a_package_never_built_is_refused_on_the_trail(
    client: FlaskClient, session: Session, officer: dict[str, str]
) -> None:
    request = request_of(session, "access")
    answer = client.get(f"/api/v1/subject-requests/{request.id}/package", headers=officer)
    assert answer.status_code == 409
    assert refused_rules(session, request.id) == ["none"]
    # Found by exploratory testing: the message ended "is not available (None)".
    assert answer.json["message"].endswith("is not available (not requested: fulfil the request first)")


@pytest.mark.parametrize("state", ["building", "withdrawn"])
def test_a_package_not_ready_is_refused_on_the_trail_naming_its_state(
    client: FlaskClient, session: Session, officer: dict[str, str], state: str
) -> None:
    request = request_of(session, "access")
    session.execute(update(SubjectRequest).where(SubjectRequest.id == request.id).values(package_state=state))
    session.commit()
    answer = client.get(f"/api/v1/subject-requests/{request.id}/package", headers=officer)
    assert answer.status_code == 409
    assert refused_rules(session, request.id) == [state]


def test_an_expired_package_is_refused_on_the_trail(
    client: FlaskClient, session: Session, officer: dict[str, str]
) -> None:
    """Ready, its objects still there until the expiry sweep deletes them, but past its 7 days."""
    request = request_of(session, "access")
    expired = {
        "package_state": "ready",
        "package_key": f"subject-access/{request.id}/package.zip",
        "package_wrapped_key": b"not-read",
        "package_expires_at": NOW - timedelta(minutes=1),
    }
    session.execute(update(SubjectRequest).where(SubjectRequest.id == request.id).values(**expired))
    session.commit()
    answer = client.get(f"/api/v1/subject-requests/{request.id}/package", headers=officer)
    assert answer.status_code == 409
    assert refused_rules(session, request.id) == ["expired"]
