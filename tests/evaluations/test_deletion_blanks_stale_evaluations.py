"""Found by review: deleting a call blanked the agent's answer and the resolution note by assigning "" through the
ORM. When the deleting session already held the evaluation, loaded before another request wrote that text, the
assignment matched what the session had loaded, so nothing was written and the text outlived the call in the
database. The blanking is now a statement on the rows themselves."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.evaluations import feedback, scoring
from recordings_service.models import Evaluation, EvaluationVersion, Recording
from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, make_agent_user, published_form
from tests.factories.recordings import make_recording

AGENT = "agent-stale-evaluation"


@pytest.mark.parametrize("reason", ["retention", "erasure"])
def test_text_written_by_another_session_after_the_evaluation_was_loaded_is_blanked(
    sessions: sessionmaker[Session],
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    reason: str,
) -> None:
    evaluator = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    agent = actor_of(make_agent_user(session, AGENT))
    call = make_recording(session, store, envelope, agent_ref=AGENT, queue="sales")
    form = published_form(session, evaluator)
    given = answers(form, ["yes", "5", "no"])
    given[form.questions[2].id] = scoring.Answer("no", comment="quoted 12 cents to Mr Virtanen", at_s=3.0)
    evaluation = scoring.evaluate_call(session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=given)
    feedback.release_evaluation(session, actor=evaluator, evaluation_id=evaluation.id)
    session.commit()
    assert (evaluation.agent_comment, evaluation.resolution_note) == ("", "")  # as this session holds it

    with sessions() as other:  # another request: the agent disputes, the evaluator resolves with a re-score
        feedback.dispute(other, actor=agent, evaluation_id=evaluation.id, comment="I told Mr Virtanen 9 cents")
        feedback.resolve_dispute(
            other,
            actor=evaluator,
            evaluation_id=evaluation.id,
            note="Mr Virtanen was told right",
            answers=answers(form, ["yes", "5", "yes"]),
        )
        other.commit()

    deletion = delete_recording(session, store, recording_id=call.id, reason=reason, actor=evaluator)
    session.commit()

    with sessions() as fresh:
        kept = fresh.get_one(Evaluation, evaluation.id)
        assert (kept.agent_comment, kept.resolution_note) == ("", "")
        assert kept.score == 100.0 and kept.version == 2  # the scores stay for the trends
        (earlier,) = fresh.query(EvaluationVersion).filter_by(evaluation_id=evaluation.id)
        assert earlier.comment == "" and all(answer["comment"] == "" for answer in earlier.answers)
        assert fresh.get_one(Recording, call.id).status == "deleted"
    assert deletion is not None and deletion.counts["evaluation_comments"] == 2  # the evaluation, its earlier version
