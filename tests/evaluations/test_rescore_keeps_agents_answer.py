"""Found by exploratory testing of the QA workflow: an agent disputed an evaluation, the lead resolved the dispute
with a note, and the evaluator later re-scored the evaluation (which puts the new version before the agent): the
re-score cleared the agent's answer, its comment and the resolution note from the evaluation and kept none of them
with the earlier version, so the dispute was gone from the record (the evidence ZIP's `evaluations.json` included),
as was an agent's acknowledgement. The earlier version now keeps the agent's answer to it and its resolution."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback, scoring
from recordings_service.evaluations.blanking import blank_evaluation_text
from recordings_service.evaluations.history import evaluations_document
from recordings_service.models import EvaluationForm, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.evaluations import actor_of, answers, make_agent_user, released
from tests.factories.recordings import make_recording


def test_a_rescore_after_a_resolved_dispute_keeps_the_dispute_with_the_version_disputed(
    session: Session, store: ObjectStore, envelope: Envelope, supervisor: User, form: EvaluationForm
) -> None:
    agent = make_agent_user(session, "agent-kept")
    call = make_recording(session, store, envelope, agent_ref="agent-kept")
    evaluation = released(session, supervisor, form, call, ["yes", "5", "no"])
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="the price was right")
    feedback.resolve_dispute(session, actor=actor_of(supervisor), evaluation_id=evaluation.id, note="listened again")
    scoring.update_evaluation(
        session,
        actor=actor_of(supervisor),
        evaluation_id=evaluation.id,
        answers=answers(form, ["yes", "4", "yes"]),
        comment="",
        submit=True,
    )
    session.commit()

    (document,) = evaluations_document(session, recording_id=call.id)
    assert document["version"] == 2 and document["agent_response"] is None  # the new version is the agent's to answer
    (earlier,) = document["earlier_versions"]
    answer = earlier["agent_answer"]
    assert answer["response"] == "disputed" and answer["comment"] == "the price was right"
    assert answer["dispute_state"] == "resolved" and answer["resolution_note"] == "listened again"
    assert answer["resolved_by"] == supervisor.id and answer["responded_at"] and answer["resolved_at"]

    # The call's deletion blanks what was written about it, in the earlier versions too.
    blank_evaluation_text(session, [call.id])
    session.commit()
    session.expire_all()
    (earlier,) = evaluations_document(session, recording_id=call.id)[0]["earlier_versions"]
    assert earlier["agent_answer"]["comment"] == "" and earlier["agent_answer"]["resolution_note"] == ""
    assert earlier["agent_answer"]["response"] == "disputed"


def test_an_acknowledgement_stays_with_the_version_acknowledged_and_an_unanswered_version_has_none(
    session: Session, store: ObjectStore, envelope: Envelope, supervisor: User, form: EvaluationForm
) -> None:
    agent = make_agent_user(session, "agent-ack")
    call = make_recording(session, store, envelope, agent_ref="agent-ack")
    evaluation = released(session, supervisor, form, call, ["yes", "5", "no"])
    actor = actor_of(supervisor)
    rescore = {"answers": answers(form, ["yes", "4", "yes"]), "comment": "", "submit": True}
    scoring.update_evaluation(session, actor=actor, evaluation_id=evaluation.id, **rescore)  # type: ignore[arg-type]
    feedback.acknowledge(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="fair")
    scoring.update_evaluation(session, actor=actor, evaluation_id=evaluation.id, **rescore)  # type: ignore[arg-type]
    session.commit()

    first, second = evaluations_document(session, recording_id=call.id)[0]["earlier_versions"]
    assert (first["version"], first["agent_answer"]) == (1, None)
    assert second["version"] == 2
    assert second["agent_answer"]["response"] == "acknowledged" and second["agent_answer"]["comment"] == "fair"
    assert second["agent_answer"]["dispute_state"] is None
