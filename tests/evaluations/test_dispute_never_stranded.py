"""A dispute whose evaluator cannot answer it, with no lead who can, goes to every QA supervisor.

Found by use: a dispute was taken when its evaluator's account was active, whatever the role, and then shown only to
that evaluator (they had no active lead). An evaluator moved to another role could neither see the queue nor resolve
it, and one who left after the dispute was opened left it in nobody's queue: open for good, the agent waiting. Such a
dispute is now in every QA supervisor's queue, marked so, and any of them may resolve it; one its evaluator (or their
lead) can answer stays theirs alone.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback
from recordings_service.models import AuditEvent, Evaluation, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of, make_agent_user, published_form, released
from tests.factories.recordings import make_recording

MARK = "cannot answer, and has no lead who can: any QA supervisor may resolve it"


def disputed(session: Session, store: ObjectStore, envelope: Envelope, evaluator: User) -> Evaluation:
    """`evaluator`'s evaluation of a call, released to its agent, who disputes it."""
    call = make_recording(session, store, envelope, agent_ref="agent-9")
    form = published_form(session, actor_of(evaluator))
    evaluation = released(session, evaluator, form, call, ["no", "1", "yes"])
    agent = make_agent_user(session, "agent-9")
    return feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="too harsh")


def queue_of(session: Session, user: User) -> list[str]:
    return [row.evaluation.id for row in feedback.dispute_queue(session, actor=actor_of(user))]


def test_an_evaluator_who_left_after_the_dispute_leaves_it_to_every_supervisor(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    evaluator, colleague = make_user(session), make_user(session)
    evaluation = disputed(session, store, envelope, evaluator)
    assert (queue_of(session, evaluator), queue_of(session, colleague)) == ([evaluation.id], [])  # theirs alone

    evaluator.active = False  # leaves, with no lead
    session.flush()

    [row] = feedback.dispute_queue(session, actor=actor_of(colleague))
    assert (row.evaluation.id, row.unled) == (evaluation.id, True)
    assert feedback.may_resolve(session, actor=actor_of(colleague), evaluation=evaluation)
    resolved = feedback.resolve_dispute(session, actor=actor_of(colleague), evaluation_id=evaluation.id, note="Fair")
    assert (resolved.dispute_state, resolved.resolved_by) == ("resolved", colleague.id)


def test_an_evaluator_in_another_role_leaves_it_to_every_supervisor_not_to_others(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    evaluator, colleague = make_user(session), make_user(session)
    officer = make_user(session, role=Role.COMPLIANCE)
    evaluator.role = Role.TRAINER  # active, but no longer evaluates: the dispute is taken all the same
    session.flush()

    evaluation = disputed(session, store, envelope, evaluator)

    assert queue_of(session, colleague) == [evaluation.id]
    assert not feedback.may_resolve(session, actor=actor_of(officer), evaluation=evaluation)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.disputed")).one()
    assert (event.details["lead_id"], event.details["to_every_supervisor"]) == (None, True)


def test_a_supervisor_resolves_it_from_the_disputes_page(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    evaluator, colleague = make_user(session), make_user(session)
    evaluation = disputed(session, store, envelope, evaluator)
    evaluator.active = False
    session.commit()
    login(client, colleague)

    listed = client.get("/disputes").get_data(as_text=True)
    assert f"/evaluations/{evaluation.id}" in listed and MARK in listed
    page = f"/evaluations/{evaluation.id}"
    resolved = post_form(client, f"{page}/resolve", {"note": "The score stands"}, token_from=page)

    assert resolved.status_code == 302
    session.expire_all()
    assert session.get_one(Evaluation, evaluation.id).resolved_by == colleague.id
