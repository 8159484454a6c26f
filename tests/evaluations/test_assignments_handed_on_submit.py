"""A supervisor who submits an evaluation of a call whose assignment a lead has meanwhile handed on is told so.

Found by review: the reassign had moved the assignment to another supervisor (it won the race with the submit, or
simply came first), so the evaluation completed no assignment and the call stayed open on the new supervisor's list;
the first supervisor saw only "Evaluation saved" and believed their assignment done. Now the saved message says the
assignment had been handed on and stays on the other supervisor's list; only then (the race itself is pinned, on
PostgreSQL, by test_assignments_reassign_racing_submit.py)."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments
from recordings_service.models import Assignment, EvaluationForm, Recording, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.assignments import submitted
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording

HANDED_ON = "This call&#39;s assignment had been handed on to"


def submit(client: FlaskClient, call: Recording, form: EvaluationForm) -> str:
    """The panel's submit, as the supervisor sends it; the call page it leads to, with its messages."""
    greeting, needs, price = form.questions
    path = f"/calls/{call.id}"
    fields = {"form_id": form.id, f"answers.{greeting.id}": "yes", f"answers.{needs.id}": "4"}
    response = post_form(client, f"{path}/evaluation", {**fields, f"answers.{price.id}": "yes"}, token_from=path)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def assigned(session: Session, call: Recording, *, to: User, by: User) -> Assignment:
    [made] = assignments.assign_calls(
        session, actor=actor_of(by), recording_ids=[call.id], assignee_id=to.id, today=date.today()
    ).assignments
    return made


def test_the_old_holder_is_told_their_evaluation_left_the_handed_on_assignment_open(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, holder = make_user(session, username="lead"), make_user(session, username="holder")
    stand_in = make_user(session, username="stand-in")
    stand_in.display_name = "Stella Stand-in"
    call = make_recording(session, store, envelope)
    form = published_form(session, actor_of(lead))
    held = assigned(session, call, to=holder, by=lead)
    assignments.reassign(
        session, actor=actor_of(lead), assignment_id=held.id, assignee_id=stand_in.id, today=date.today()
    )
    session.commit()
    login(client, holder)

    page = submit(client, call, form)

    assert "Evaluation saved" in page
    assert f"{HANDED_ON} Stella Stand-in: your evaluation is kept as your own" in page
    assert "the call stays open on their list." in page
    [still_open] = assignments.list_assignments(
        session, actor=actor_of(lead), today=date.today(), assignee_id=stand_in.id
    )
    assert still_open.assignment.id == held.id


def test_no_word_of_a_hand_on_when_the_submit_completes_the_own_assignment_or_the_taker_has_done_it(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, holder, stand_in = make_user(session), make_user(session), make_user(session)
    form = published_form(session, actor_of(lead))
    mine, done_by_taker, handed_back, unassigned = (make_recording(session, store, envelope) for _ in range(4))
    assigned(session, mine, to=holder, by=lead)
    taken = assigned(session, done_by_taker, to=holder, by=lead)
    assignments.reassign(
        session, actor=actor_of(lead), assignment_id=taken.id, assignee_id=stand_in.id, today=date.today()
    )
    submitted(session, done_by_taker, stand_in)  # the stand-in has evaluated it: nothing stays open
    back = assigned(session, handed_back, to=holder, by=lead)
    for to in (stand_in, holder):  # handed on, then back again: the submit completes it
        assignments.reassign(
            session, actor=actor_of(lead), assignment_id=back.id, assignee_id=to.id, today=date.today()
        )
    session.commit()
    login(client, holder)

    for call in (mine, done_by_taker, handed_back, unassigned):
        page = submit(client, call, form)
        assert "Evaluation saved" in page and HANDED_ON not in page, call.id
    assert assignments.list_assignments(session, actor=actor_of(lead), today=date.today(), assignee_id=holder.id) == []
