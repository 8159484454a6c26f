"""The evaluation lifecycle: drafts, one evaluation per call, form version and evaluator, versions on edit,
results counting each evaluation once; releasing to the agent, acknowledging, disputing and resolving; what
an agent may see; evaluations in the evidence package."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.audit import Actor
from recordings_service.calls.evidence import export_evidence
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound
from recordings_service.evaluations import feedback, history, scoring, trends
from recordings_service.evaluations.lookup import CallDeleted
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import AuditEvent, Evaluation, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.recordings import RecordingFilters, get_playable_recording, list_recordings
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording


def actions(session: Session, recording_id: str) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.object_id == recording_id).order_by(AuditEvent.seq)
    return [action for action in session.scalars(query) if action.startswith("evaluation.")]


def make_agent(session: Session, agent_ref: str) -> Actor:
    user = make_user(session, role=Role.AGENT)
    user.agent_ref = agent_ref
    session.flush()
    return actor_of(user)


@pytest.fixture
def evaluator(session: Session) -> Actor:
    return actor_of(make_user(session, role=Role.QA_SUPERVISOR))


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-7", queue="billing")


def released_evaluation(
    session: Session, evaluator: Actor, call: Recording, values: list[str]
) -> tuple[EvaluationForm, Actor, Evaluation]:
    """A published form, the agent of `call` (agent-7), and the evaluator's evaluation of the call on the form with
    `values`, released to the agent."""
    form = published_form(session, evaluator)
    agent = make_agent(session, "agent-7")
    evaluation = scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, values)
    )
    feedback.release_evaluation(session, actor=evaluator, evaluation_id=evaluation.id)
    return form, agent, evaluation


# ---------------------------------------------------------------- drafts, one per evaluator, versions


def test_a_draft_is_kept_as_typed_never_scored_and_never_counted(
    session: Session, evaluator: Actor, call: Recording
) -> None:
    form = published_form(session, evaluator)
    greeting = form.questions[0]
    draft = scoring.save_draft(
        session,
        actor=evaluator,
        recording_id=call.id,
        form_id=form.id,
        answers={greeting.id: Answer("yes", comment="warm", at_s=3.25)},
        comment="so far",
    )
    again = scoring.save_draft(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers={greeting.id: Answer("no")}
    )

    assert again.id == draft.id and (again.state, again.version, again.score) == ("draft", 0, None)
    assert [(a.value, a.at_s) for a in again.answers] == [("no", None)]
    with pytest.raises(Invalid) as caught:
        scoring.save_draft(
            session, actor=evaluator, recording_id=call.id, form_id=form.id, answers={greeting.id: Answer("maybe")}
        )
    assert caught.value.field == f"answers.{greeting.id}"
    now = datetime.now(UTC)
    assert [week.count for week in trends.weekly_scores(session, weeks=1, now=now)] == [0]
    assert trends.evaluated_calls_since(session, since=call.created_at) == 0
    assert history.agent_evaluations(session, actor=evaluator, agent_ref="agent-7") == []


def test_a_second_attempt_opens_the_first_and_edits_are_versions(
    session: Session, evaluator: Actor, call: Recording
) -> None:
    form = published_form(session, evaluator)
    first = scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, ["yes", "5", "yes"])
    )
    assert scoring.open_evaluation(session, actor=evaluator, recording_id=call.id, form_id=form.id) is first
    with pytest.raises(Conflict, match=first.id):
        scoring.create_evaluation(
            session,
            actor=evaluator,
            recording_id=call.id,
            form_id=form.id,
            answers=answers(form, ["no", "5", "yes"]),
            comment="",
            submit=True,
        )
    # A draft of a submitted evaluation would hide the change from the trail: only a new version may change it.
    with pytest.raises(Conflict):
        scoring.save_draft(session, actor=evaluator, recording_id=call.id, form_id=form.id, answers={})

    second = scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, ["no", "5", "yes"])
    )

    assert second.id == first.id and (second.version, second.score) == (2, 75.0)
    assert [(v.version, v.score) for v in second.versions] == [(1, 100.0)]
    assert {a["value"] for a in second.versions[0].answers} == {"yes", "5"}
    assert actions(session, call.id) == ["evaluation.created", "evaluation.revised"]
    revised = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.revised")).one()
    assert (revised.details["previous_score"], revised.details["score"], revised.details["version"]) == (100.0, 75.0, 2)
    # Results count the evaluation once, with its latest score.
    week = trends.weekly_scores(session, weeks=1, now=datetime.now(UTC), agent_ref="agent-7")[-1]
    assert (week.average, week.count) == (75.0, 1)


def test_the_database_allows_one_evaluation_per_call_form_version_and_evaluator(
    session: Session, evaluator: Actor, call: Recording
) -> None:
    form = published_form(session, evaluator)
    scoring.save_draft(session, actor=evaluator, recording_id=call.id, form_id=form.id, answers={})
    duplicate = Evaluation(
        recording_id=call.id, form_id=form.id, evaluator_id=evaluator.id, agent_ref="agent-7", queue="billing"
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(duplicate)
    other = actor_of(make_user(session))
    theirs = scoring.save_draft(session, actor=other, recording_id=call.id, form_id=form.id, answers={})
    assert theirs.evaluator_id == other.id  # another evaluator scores the same call separately


def test_the_call_lists_its_evaluations(session: Session, evaluator: Actor, call: Recording) -> None:
    form = published_form(session, evaluator)
    scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, ["yes", "5", "yes"])
    )
    other = actor_of(make_user(session))
    scoring.save_draft(session, actor=other, recording_id=call.id, form_id=form.id, answers={})
    listed = history.call_evaluations(session, actor=evaluator, recording_id=call.id)
    assert [(row.evaluator, row.evaluation.state) for row in listed] == [
        (evaluator.name, "submitted"),
        (other.name, "draft"),
    ]


# ---------------------------------------------------------------- release, acknowledge, dispute, resolve


def test_release_acknowledge_dispute_and_resolve_with_a_rescore(
    session: Session, evaluator: Actor, store: ObjectStore, envelope: Envelope, call: Recording
) -> None:
    form = published_form(session, evaluator)
    agent = make_agent(session, "agent-7")
    fine = scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, ["yes", "5", "yes"])
    )
    other_call = make_recording(session, store, envelope, agent_ref="agent-7", queue="billing")
    harsh = scoring.evaluate_call(
        session,
        actor=evaluator,
        recording_id=other_call.id,
        form_id=form.id,
        answers=answers(form, ["yes", "5", "no"]),
    )
    assert feedback.my_feedback(session, actor=agent) == []
    with pytest.raises(NotFound):
        feedback.acknowledge(session, actor=agent, evaluation_id=fine.id)  # not released yet

    someone_else = actor_of(make_user(session))
    with pytest.raises(Forbidden):
        feedback.release_evaluation(session, actor=someone_else, evaluation_id=fine.id)
    feedback.release_evaluation(session, actor=evaluator, evaluation_id=fine.id)
    feedback.release_evaluation(session, actor=evaluator, evaluation_id=harsh.id)
    assert {e.id for e in feedback.my_feedback(session, actor=agent)} == {fine.id, harsh.id}

    feedback.acknowledge(session, actor=agent, evaluation_id=fine.id, comment="fair")
    with pytest.raises(Conflict):
        feedback.dispute(session, actor=agent, evaluation_id=fine.id, comment="changed my mind")
    with pytest.raises(Invalid):
        feedback.dispute(session, actor=agent, evaluation_id=harsh.id, comment="  ")
    feedback.dispute(session, actor=agent, evaluation_id=harsh.id, comment="I quoted the right price at 0:12")
    assert [d.evaluation.id for d in feedback.dispute_queue(session, actor=evaluator)] == [harsh.id]
    assert feedback.dispute_queue(session, actor=someone_else) == []
    with pytest.raises(Forbidden):
        feedback.resolve_dispute(session, actor=someone_else, evaluation_id=harsh.id, note="no")

    resolved = feedback.resolve_dispute(
        session,
        actor=evaluator,
        evaluation_id=harsh.id,
        note="Price was right; re-scored",
        answers=answers(form, ["yes", "5", "yes"]),
    )

    assert (resolved.dispute_state, resolved.version, resolved.score) == ("resolved", 2, 100.0)
    assert [v.score for v in resolved.versions] == [0.0]
    assert feedback.dispute_queue(session, actor=evaluator) == []
    assert actions(session, other_call.id) == [
        "evaluation.created",
        "evaluation.released",
        "evaluation.disputed",
        "evaluation.revised",
        "evaluation.dispute_resolved",
    ]
    assert "evaluation.acknowledged" in actions(session, call.id)
    # The agent's trend counts each evaluation once, with the score that stands.
    week = trends.weekly_scores(session, weeks=1, now=datetime.now(UTC), agent_ref="agent-7")[-1]
    assert (week.average, week.count) == (100.0, 2)


def disputed_under_a_lead(session: Session, call: Recording) -> tuple[Actor, Actor, Evaluation]:
    """An evaluation of `call` by a supervisor who has a lead, released and disputed by its agent."""
    lead_user = make_user(session, role=Role.QA_SUPERVISOR)
    evaluator_user = make_user(session, role=Role.QA_SUPERVISOR)
    evaluator_user.lead_id = lead_user.id
    session.flush()
    lead, evaluator = actor_of(lead_user), actor_of(evaluator_user)
    _form, agent, evaluation = released_evaluation(session, evaluator, call, ["no", "1", "yes"])
    feedback.dispute(session, actor=agent, evaluation_id=evaluation.id, comment="too harsh")
    return lead, evaluator, evaluation


def test_a_dispute_lands_in_the_evaluators_leads_queue_too(
    session: Session, store: ObjectStore, envelope: Envelope, call: Recording
) -> None:
    lead, evaluator, evaluation = disputed_under_a_lead(session, call)

    queued = feedback.dispute_queue(session, actor=lead)
    assert [(d.evaluation.id, d.evaluator) for d in queued] == [(evaluation.id, evaluator.name)]
    resolved = feedback.resolve_dispute(session, actor=lead, evaluation_id=evaluation.id, note="The score stands")
    assert (resolved.dispute_state, resolved.version, resolved.resolved_by) == ("resolved", 1, lead.id)


@pytest.mark.parametrize("gone", ["restricted", "deleted"])
def test_a_dispute_of_a_call_gone_from_view_leaves_the_queues(
    session: Session, store: ObjectStore, call: Recording, gone: str
) -> None:
    """Found by exploratory testing: after the customer's calls were restricted (GDPR Art. 18), /disputes still
    listed the dispute to the evaluator and their lead (agent, score, the agent's comment) while its link, the
    evaluation list and the agent's page all left it out (404); a deleted call's dispute stayed there for good,
    though nothing can resolve it."""
    lead, evaluator, evaluation = disputed_under_a_lead(session, call)
    assert [d.evaluation.id for d in feedback.dispute_queue(session, actor=lead)] == [evaluation.id]

    if gone == "restricted":
        call.restricted = True
        session.flush()
    else:
        delete_recording(session, store, recording_id=call.id, reason="retention", actor=evaluator)

    assert feedback.dispute_queue(session, actor=evaluator) == []
    assert feedback.dispute_queue(session, actor=lead) == []


# ---------------------------------------------------------------- what an agent sees


def test_an_agent_sees_only_the_calls_of_evaluations_released_to_them(
    session: Session, evaluator: Actor, store: ObjectStore, envelope: Envelope, call: Recording
) -> None:
    form = published_form(session, evaluator)
    agent = make_agent(session, "agent-7")
    colleague = make_agent(session, "agent-8")
    unreleased = make_recording(session, store, envelope, agent_ref="agent-7", queue="billing")
    colleagues_call = make_recording(session, store, envelope, agent_ref="agent-8", queue="billing")
    for recording in (call, unreleased, colleagues_call):
        evaluation = scoring.evaluate_call(
            session,
            actor=evaluator,
            recording_id=recording.id,
            form_id=form.id,
            answers=answers(form, ["yes", "5", "yes"]),
        )
        if recording is not unreleased:
            feedback.release_evaluation(session, actor=evaluator, evaluation_id=evaluation.id)

    assert get_playable_recording(session, actor=agent, recording_id=call.id, audio=False).id == call.id
    for hidden in (unreleased, colleagues_call):
        with pytest.raises(NotFound):
            get_playable_recording(session, actor=agent, recording_id=hidden.id, audio=False)
    listed = list_recordings(session, actor=agent, filters=RecordingFilters())
    assert [r.id for r in listed.items] == [call.id]
    assert [r.id for r in list_recordings(session, actor=colleague, filters=RecordingFilters()).items] == [
        colleagues_call.id
    ]
    colleagues = feedback.my_feedback(session, actor=colleague)[0]
    with pytest.raises(NotFound) as caught:
        feedback.get_feedback(session, actor=agent, evaluation_id=colleagues.id)
    assert caught.value.refusal is not None and caught.value.refusal.action == "evaluation.feedback_refused"


# ---------------------------------------------------------------- evidence


def test_the_evidence_package_holds_the_evaluations_with_their_versions(
    session: Session, evaluator: Actor, store: ObjectStore, envelope: Envelope, call: Recording, tmp_path: Path
) -> None:
    form = published_form(session, evaluator)
    values = answers(form, ["yes", "5", "no"])
    values[form.questions[2].id] = Answer("no", comment="wrong price", at_s=1.5)
    scoring.evaluate_call(session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=values)
    scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, ["yes", "5", "yes"])
    )
    officer = make_user(session, role=Role.COMPLIANCE)
    package = io.BytesIO()
    made = export_evidence(
        session,
        store,
        envelope,
        actor=actor_of(officer),
        recording_id=call.id,
        destination=package,
        work_dir=tmp_path,
        zone=UTC,
    )
    with zipfile.ZipFile(package) as archive:
        documents = json.loads(archive.read("evaluations.json"))
    assert "evaluations.json" in made.files
    (evaluation,) = documents
    assert (evaluation["evaluator"], evaluation["version"], evaluation["score"]) == (evaluator.name, 2, 100.0)
    assert evaluation["form"]["name"] == "Small form"
    (earlier,) = evaluation["earlier_versions"]
    assert earlier["score"] == 0.0
    assert {"question_id": form.questions[2].id, "value": "no", "comment": "wrong price", "at_s": 1.5} in earlier[
        "answers"
    ]


def test_users_of_other_roles_never_get_an_agent_ref(session: Session) -> None:
    agent = accounts.create_user(
        session, actor=SYSTEM, username="aino", role=Role.AGENT, password=None, agent_ref="agent-7"
    )
    assert session.get(User, agent.id).agent_ref == "agent-7"  # type: ignore[union-attr]
    with pytest.raises(Invalid) as missing:
        accounts.create_user(session, actor=SYSTEM, username="aapo", role=Role.AGENT, password=None)
    assert missing.value.field == "agent_ref"
    with pytest.raises(Conflict):
        accounts.create_user(
            session, actor=SYSTEM, username="aada", role=Role.AGENT, password=None, agent_ref="agent-7"
        )
    with pytest.raises(Invalid):
        accounts.create_user(
            session, actor=SYSTEM, username="qaisa", role=Role.QA_SUPERVISOR, password=None, agent_ref="x"
        )


def test_deleting_a_call_blanks_what_people_wrote_about_it_in_every_version(
    session: Session, evaluator: Actor, store: ObjectStore, envelope: Envelope, call: Recording
) -> None:
    form = published_form(session, evaluator)
    agent = make_agent(session, "agent-7")
    values = answers(form, ["yes", "5", "no"])
    values[form.questions[2].id] = Answer("no", comment="quoted 9 cents to Mr Virtanen")
    evaluation = scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=values, comment="first take"
    )
    feedback.release_evaluation(session, actor=evaluator, evaluation_id=evaluation.id)
    feedback.dispute(session, actor=agent, evaluation_id=evaluation.id, comment="I said 9 cents to Mr Virtanen")
    feedback.resolve_dispute(
        session,
        actor=evaluator,
        evaluation_id=evaluation.id,
        note="Mr Virtanen was told right",
        answers=answers(form, ["yes", "5", "yes"]),
    )

    deletion = delete_recording(session, store, recording_id=call.id, reason="retention", actor=evaluator)

    assert deletion is not None and deletion.counts["evaluation_comments"] >= 3
    session.expire_all()
    kept = session.get(Evaluation, evaluation.id)
    assert kept is not None and kept.score == 100.0  # scores stay for the trends
    assert (kept.agent_comment, kept.resolution_note) == ("", "")
    (earlier,) = kept.versions
    assert earlier.score == 0.0 and earlier.comment == ""
    assert all(answer["comment"] == "" for answer in earlier.answers)


def test_nothing_new_is_written_about_a_deleted_call(
    session: Session, evaluator: Actor, store: ObjectStore, envelope: Envelope, call: Recording
) -> None:
    """Found by exploratory testing: after deletion blanked what people wrote about a call, an evaluation of it
    could still be re-scored, released, disputed (with new free text) and resolved, and a comment added."""
    from recordings_service.calls.review import add_annotation

    form, agent, released = released_evaluation(session, evaluator, call, ["yes", "5", "no"])
    other = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    unreleased = scoring.evaluate_call(
        session, actor=other, recording_id=call.id, form_id=form.id, answers=answers(form, ["yes", "5", "yes"])
    )
    delete_recording(session, store, recording_id=call.id, reason="erasure", actor=evaluator)

    full = answers(form, ["yes", "5", "yes"])
    attempts = [
        lambda: scoring.update_evaluation(
            session, actor=evaluator, evaluation_id=released.id, answers=full, comment="", submit=True
        ),
        lambda: feedback.release_evaluation(session, actor=other, evaluation_id=unreleased.id),
        lambda: feedback.dispute(session, actor=agent, evaluation_id=released.id, comment="Jane Doe said so"),
        lambda: feedback.acknowledge(session, actor=agent, evaluation_id=released.id),
    ]
    for attempt in attempts:  # the evaluation is there: its call is not (409)
        with pytest.raises(CallDeleted):
            attempt()
    with pytest.raises(NotFound):  # the call is addressed, and it is gone
        add_annotation(session, actor=evaluator, recording_id=call.id, at_s=1.0, text="after deletion")
    session.expire_all()
    kept = session.get_one(Evaluation, released.id)
    assert (kept.version, kept.agent_response, kept.agent_comment) == (1, None, "")


def test_a_restricted_calls_evaluation_is_changed_by_compliance_only(
    session: Session, evaluator: Actor, call: Recording
) -> None:
    """Found by exploratory testing: reading such an evaluation was refused (404), yet releasing, disputing and
    resolving it went through."""
    form = published_form(session, evaluator)
    agent = make_agent(session, "agent-7")
    evaluation = scoring.evaluate_call(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers=answers(form, ["yes", "5", "no"])
    )
    call.restricted = True
    session.flush()
    with pytest.raises(NotFound) as refused:
        feedback.release_evaluation(session, actor=evaluator, evaluation_id=evaluation.id)
    assert refused.value.refusal is not None and refused.value.refusal.action == "recording.access_denied"
    call.restricted = False
    feedback.release_evaluation(session, actor=evaluator, evaluation_id=evaluation.id)
    call.restricted = True
    session.flush()
    with pytest.raises(NotFound):
        feedback.dispute(session, actor=agent, evaluation_id=evaluation.id, comment="restricted?")


def test_a_released_evaluation_revised_goes_back_to_the_agent_to_answer(
    session: Session, evaluator: Actor, call: Recording
) -> None:
    """Found by exploratory testing: re-scoring an acknowledged evaluation from 100 to 0 kept "acknowledged", and
    the agent could no longer dispute the score they never saw. With a dispute open, the way is to resolve it."""
    form, agent, evaluation = released_evaluation(session, evaluator, call, ["yes", "5", "yes"])
    feedback.acknowledge(session, actor=agent, evaluation_id=evaluation.id, comment="ok thanks")
    harsher = answers(form, ["yes", "5", "no"])
    revised = scoring.update_evaluation(
        session, actor=evaluator, evaluation_id=evaluation.id, answers=harsher, comment="", submit=True
    )
    assert (revised.version, revised.agent_response, revised.agent_comment) == (2, None, "")
    feedback.dispute(session, actor=agent, evaluation_id=evaluation.id, comment="I never agreed to that")
    with pytest.raises(Conflict):
        scoring.update_evaluation(
            session, actor=evaluator, evaluation_id=evaluation.id, answers=harsher, comment="", submit=True
        )


@pytest.mark.parametrize("gone", ["restricted", "deleted"])
def test_a_second_evaluation_of_a_call_gone_from_view_is_not_found_not_a_conflict_naming_the_first(
    session: Session, evaluator: Actor, store: ObjectStore, call: Recording, gone: str
) -> None:
    """Found by exploratory testing: the "you already evaluated this call" conflict came before the visibility
    check, so it told whoever asked that the call exists and named their evaluation's id."""
    form = published_form(session, evaluator)
    first = scoring.create_evaluation(
        session, actor=evaluator, recording_id=call.id, form_id=form.id, answers={}, comment="", submit=False
    )
    if gone == "restricted":
        call.restricted = True
        session.flush()
    else:
        delete_recording(session, store, recording_id=call.id, reason="retention", actor=evaluator)
    with pytest.raises(NotFound) as refused:
        scoring.create_evaluation(
            session, actor=evaluator, recording_id=call.id, form_id=form.id, answers={}, comment="", submit=True
        )
    assert first.id not in refused.value.message


def test_an_agent_no_longer_sees_the_evaluation_of_a_call_restricted_since(
    session: Session, evaluator: Actor, call: Recording
) -> None:
    """Found by exploratory testing: after a restriction (GDPR Art. 18) the agent still read the released
    evaluation, score and answers, on /feedback/ and in its list, while everyone but compliance got 404."""
    _, agent, evaluation = released_evaluation(session, evaluator, call, ["yes", "5", "no"])
    assert [item.id for item in feedback.my_feedback(session, actor=agent)] == [evaluation.id]
    call.restricted = True
    session.flush()

    assert feedback.my_feedback(session, actor=agent) == []
    with pytest.raises(NotFound) as refused:
        feedback.get_feedback(session, actor=agent, evaluation_id=evaluation.id)
    assert refused.value.refusal is not None and refused.value.refusal.action == "evaluation.feedback_refused"
