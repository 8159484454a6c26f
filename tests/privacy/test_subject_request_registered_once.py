"""A subject request is registered once: the same customer's open request of the same kind, received at the same
moment, sent again is refused (409 naming the one registered), audited.

A client retrying a request whose answer it lost, or an officer's form sent twice, registered a second request: a
second deadline to track and, for an erasure, a second erasure to carry out. Left out by earlier sessions ("POST
/subject-requests is not idempotent").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import login, make_user, post_form
from tests.factories.own_database import second_waits_for_first
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_token
from tests.page_text import visible_text

RECEIVED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def request_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SubjectRequest)) or 0


def test_the_api_registers_a_request_once_and_names_it_when_sent_again(client: FlaskClient, session: Session) -> None:
    known = customer(session)
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    def register(kind: str = "erasure", received: datetime = RECEIVED) -> tuple[int, dict[str, str]]:
        body = {"customer_ref": known.customer_ref, "kind": kind, "received_at": received.isoformat()}
        answer = client.post("/api/v1/subject-requests", json=body, headers=officer)
        return answer.status_code, answer.json

    status, made = register()
    assert status == 201, made
    # The same moment in another offset is the same moment.
    status, again = register(received=RECEIVED.astimezone(ZoneInfo("Europe/Helsinki")))
    assert status == 409, again
    assert again["error"] == "conflict" and made["id"] in again["message"]
    assert request_count(session) == 1
    refusal = session.scalars(select(AuditEvent).where(AuditEvent.action == "subject_request.create_refused")).one()
    assert (refusal.object_id, refusal.details) == (made["id"], {"rule": "request_registered"})

    # Another kind, another moment: other requests.
    assert register(kind="access")[0] == 201
    assert register(received=RECEIVED + timedelta(minutes=1))[0] == 201
    # Once the request is closed (withdrawn here), the same request may be registered again.
    withdrawn = client.post(
        f"/api/v1/subject-requests/{made['id']}/withdraw", json={"reason": "registered by mistake"}, headers=officer
    )
    assert withdrawn.status_code == 200, withdrawn.json
    assert register()[0] == 201
    assert request_count(session) == 4


def test_the_form_sent_twice_registers_one_request_and_says_which(client: FlaskClient, session: Session) -> None:
    known = customer(session)
    login(client, make_user(session, role=Role.COMPLIANCE))
    form = {"customer_ref": known.customer_ref, "kind": "access", "received_on": RECEIVED.date().isoformat()}

    first = post_form(client, "/subjects/", form, token_from=f"/subjects/?customer_ref={known.customer_ref}")
    second = post_form(client, "/subjects/", form, token_from=f"/subjects/?customer_ref={known.customer_ref}")

    assert first.status_code == 302
    [made] = session.scalars(select(SubjectRequest)).all()
    assert second.status_code == 409
    assert f"this request is registered already, as request {made.id}" in visible_text(second.get_data(as_text=True))
    assert request_count(session) == 1


def test_two_registrations_at_once_register_one_request(own_engine: Engine, envelope: Envelope) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        ref = customer(setup).customer_ref
        setup.commit()

    def register(session: Session) -> SubjectRequest:
        return subjects.create_request(
            session, actor=OFFICER, customer_ref=ref, kind="restriction", received_at=RECEIVED
        )

    second = second_waits_for_first(sessions, register, register)

    assert isinstance(second, Conflict), second
    with sessions() as check:
        assert request_count(check) == 1
