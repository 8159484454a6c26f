"""Found by exploratory testing: an evaluator who re-scored an evaluation after its dispute was resolved put the
new version before the agent (the agent's answer and comment cleared, as the README says) but kept the old
resolution note. The agent then acknowledged the new version, and the call's evidence (`evaluations.json`) said
"acknowledged", no dispute, and "resolution_note: kept as is": a resolution of a dispute that version never had.
The re-score now clears the resolution with the answer it resolved."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback, history, scoring
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, make_agent_user, published_form, released
from tests.factories.recordings import make_recording


def test_a_new_version_after_a_resolved_dispute_carries_no_resolution_of_its_own(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session)
    agent = make_agent_user(session, "agent-rescored")
    form = published_form(session, actor_of(supervisor))
    call = make_recording(session, store, envelope, agent_ref="agent-rescored")
    evaluation = released(session, supervisor, form, call, ["yes", "3", "yes"])
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="I asked about usage")
    feedback.resolve_dispute(session, actor=actor_of(supervisor), evaluation_id=evaluation.id, note="kept as is")

    scoring.update_evaluation(
        session,
        actor=actor_of(supervisor),
        evaluation_id=evaluation.id,
        answers=answers(form, ["yes", "5", "yes"]),
        comment="",
        submit=True,
    )
    assert (evaluation.agent_response, evaluation.dispute_state, evaluation.resolution_note) == (None, None, "")
    assert (evaluation.resolved_by, evaluation.resolved_at) == (None, None)

    feedback.acknowledge(session, actor=actor_of(agent), evaluation_id=evaluation.id)
    (stated,) = history.evaluations_document(session, recording_id=call.id)
    assert (stated["version"], stated["agent_response"], stated["dispute_state"]) == (2, "acknowledged", None)
    assert stated["resolution_note"] == ""
