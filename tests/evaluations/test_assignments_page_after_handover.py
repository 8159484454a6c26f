"""A list of assignments pages on from where its last page ended, whatever became of that page's last assignment.
Found by exploratory testing: the cursor named the last assignment, and the next page began after wherever it stood
now. Handed on with a later due date meanwhile (a colleague ill), it took the rest of the list with it: the next
page of the supervisor's own list was empty, and four open assignments were on no page."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.assignments import api_caller, on_list, walk
from tests.factories.evaluations import actor_of


def test_the_next_page_follows_the_last_shown_assignment_after_it_is_handed_on(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    me, colleague = make_user(session), make_user(session)
    mine = on_list(session, store, envelope, to=me, by=me, dues=[1, 2, 3, 4, 5, 6])
    session.commit()
    login(client, me)
    ask = api_caller(client)
    first = ask("GET", "/api/v1/assignments?limit=2", 200)
    assert [item["id"] for item in first["items"]] == [mine[1], mine[2]]

    assignments.reassign(
        session,
        actor=actor_of(me),
        assignment_id=mine[2],
        assignee_id=colleague.id,
        today=date.today(),
        due=date.today() + timedelta(days=150),
    )
    session.commit()

    after = ask("GET", f"/api/v1/assignments?limit=2&cursor={first['next_cursor']}", 200)
    assert [item["id"] for item in after["items"]] == [mine[3], mine[4]]
    assert walk(ask, "include_done=false", 2) == [[mine[1], mine[3]], [mine[4], mine[5]], [mine[6]]]


def test_an_edited_cursor_is_refused_naming_it(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session))
    ask = api_caller(client)

    for cursor in ("not-a-cursor", "WyJ4Il0", "WyIyMDI2LTAxLTAxIiwgIm5vdCBhIG1vbWVudCIsICJpZCJd"):
        refused = ask("GET", f"/api/v1/assignments?cursor={cursor}", 422)
        assert (refused["error"], refused["field"]) == ("invalid_cursor", "cursor"), cursor
