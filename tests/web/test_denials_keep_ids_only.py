"""A request refused for lack of permission is recorded against the ids in its path, and only ids: a customer's or
agent's reference, a queue's name or any text a caller put in a path went into the audit trail as typed, where it
outlived the customer's erasure (the trail is never edited). With a NUL byte in it, writing the refusal failed and
Flask's own logger wrote the path, reference and all (a 500). Found by exploratory testing of the logs."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.factories.audit import events, newest_seq
from tests.factories.recordings import make_token

MARKER = "CUST-MARKER-7731"


def test_a_refused_path_keeps_its_ids_and_names_the_rest(client: FlaskClient, session: Session) -> None:
    reader = {"Authorization": f"Bearer {make_token(session, role='qa_supervisor', scope='read')}"}
    start = newest_seq(session)

    for path in (f"/api/v1/customers/{MARKER}/custody", f"/api/v1/customers/{MARKER}%00/custody"):
        assert client.get(path, headers=reader).status_code == 403, path
    login(client, make_user(session, role=Role.TRAINER))
    assert client.get("/agents/Matti%20Meikalainen%200401234567").status_code == 403

    denied = events(session, "access.denied", after=start)
    assert [event.details.get("withheld") for event in denied] == ["customer_ref", "customer_ref", "agent_ref"]
    assert not [event for event in denied if MARKER in str(event.details) or "Meikalainen" in str(event.details)]
