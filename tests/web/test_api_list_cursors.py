"""A list's cursor pages that list only: another list's cursor is 422 `invalid_cursor`, never read as a place in this
one. Found by probing every list of the API with every other list's cursors, as the deletion feed had read the call
list's: the lists paged by id took any list's id (a legal hold's `next_cursor` on the receipts answered the receipts
older than that hold, a plausible page of the wrong list), and the agent's feedback read the call list's cursor, a
call's start and id, as an evaluation's release and id (and the call list read the feedback's as a start)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, evaluation_token, make_agent_user, published_form, released
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_recording, make_token

# The lists paged by id, with a token that may read each.
ID_LISTS = {
    "/api/v1/legal-holds": (Role.COMPLIANCE, "compliance"),
    "/api/v1/retention/receipts": (Role.COMPLIANCE, "compliance"),
    "/api/v1/subject-requests": (Role.COMPLIANCE, "compliance"),
    "/api/v1/research/batches": (Role.COMPLIANCE, "research"),
    "/api/v1/calibration-sessions": (Role.QA_SUPERVISOR, "evaluation"),
    "/api/v1/training/clips": (Role.TRAINER, "training"),
    "/api/v1/training/nominations": (Role.TRAINER, "training"),
    "/api/v1/training/sets": (Role.TRAINER, "training"),
}


def bearer(session: Session, role: Role, scope: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=role, scope=scope)}


def holds_cursor(client: FlaskClient, session: Session) -> str:
    """The legal holds' `next_cursor` after the first of two holds."""
    for _ in range(2):
        holds.place_hold(session, actor=OFFICER, reason="dispute", customer_ref=customer(session).customer_ref)
    page = client.get("/api/v1/legal-holds?limit=1", headers=bearer(session, Role.COMPLIANCE, "compliance")).json
    assert page is not None and len(page["items"]) == 1 and page["next_cursor"]
    return str(page["next_cursor"])


@pytest.mark.parametrize("path", [path for path in ID_LISTS if path != "/api/v1/legal-holds"])
def test_a_list_paged_by_id_refuses_another_lists_cursor(client: FlaskClient, session: Session, path: str) -> None:
    cursor = holds_cursor(client, session)
    headers = bearer(session, *ID_LISTS[path])

    refused = client.get(path, query_string={"cursor": cursor}, headers=headers)

    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.json is not None and (refused.json["error"], refused.json["field"]) == ("invalid_cursor", "cursor")


def test_the_legal_holds_page_on_with_their_own_cursor_and_refuse_a_bare_id(
    client: FlaskClient, session: Session
) -> None:
    cursor = holds_cursor(client, session)
    officer = bearer(session, Role.COMPLIANCE, "compliance")

    rest = client.get("/api/v1/legal-holds", query_string={"cursor": cursor, "limit": 1}, headers=officer).json
    assert rest is not None and (len(rest["items"]), rest["next_cursor"]) == (1, None)
    # A bare id, as the lists paged by id handed out before 2026-12-08, names no list: refused, not read as a place.
    bare = client.get("/api/v1/legal-holds", query_string={"cursor": rest["items"][0]["id"]}, headers=officer)
    assert bare.status_code == 422 and bare.json is not None and bare.json["error"] == "invalid_cursor"


def test_the_feedback_and_the_call_list_refuse_each_others_cursors(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent = make_agent_user(session, "agent-cursors")
    form = published_form(session, actor_of(supervisor))
    for _ in range(3):
        released(
            session,
            supervisor,
            form,
            make_recording(session, store, envelope, agent_ref="agent-cursors"),
            ["yes", "5", "no"],
        )
    mine, reader = evaluation_token(session, agent), bearer(session, Role.QA_SUPERVISOR, "read")
    session.commit()
    calls = client.get("/api/v1/recordings?limit=1", headers=reader).json
    feedback = client.get("/api/v1/feedback?limit=1", headers=mine).json
    assert calls is not None and feedback is not None and calls["next_cursor"] and feedback["next_cursor"]

    for path, cursor, headers in [
        ("/api/v1/feedback", calls["next_cursor"], mine),
        ("/api/v1/recordings", feedback["next_cursor"], reader),
        ("/api/v1/search", feedback["next_cursor"], reader),
    ]:
        refused = client.get(path, query_string={"cursor": cursor}, headers=headers)
        assert refused.status_code == 422, (path, refused.get_data(as_text=True))
        assert refused.json is not None and (refused.json["error"], refused.json["field"]) == (
            "invalid_cursor",
            "cursor",
        )
    rest = client.get("/api/v1/feedback", query_string={"cursor": feedback["next_cursor"]}, headers=mine).json
    assert rest is not None and (len(rest["items"]), rest["next_cursor"]) == (2, None)
