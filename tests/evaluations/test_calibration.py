"""Calibration sessions: blind until every participant submits (or the organiser closes), agreement and median
deviation on a known set of answers, calibration kept out of agent results, who may take part; the API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound
from recordings_service.evaluations import calibration, history, scoring, trends
from recordings_service.models import AuditEvent, CalibrationParticipant, Evaluation, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording

# Small form: Greeting (yes/no/na, weight 1), Needs analysis (scale, weight 2), Correct price (critical, weight 1).
# Totals: 100, 75, 50 and 0 (the critical "no"); median 62.5.
KNOWN = {
    "anna": ["yes", "5", "yes"],
    "bert": ["yes", "3", "yes"],
    "cecilia": ["no", "3", "yes"],
    "dmitri": ["na", "4", "no"],
}


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-calib", queue="moving")


@pytest.fixture
def organiser(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="olga")


@pytest.fixture
def form(session: Session, organiser: User) -> EvaluationForm:
    return published_form(session, actor_of(organiser))


def supervisors(session: Session, names: list[str]) -> list[User]:
    return [make_user(session, role=Role.QA_SUPERVISOR, username=name) for name in names]


def start(session: Session, organiser: User, call: Recording, form: EvaluationForm, people: list[User]) -> str:
    created = calibration.create_calibration(
        session,
        actor=actor_of(organiser),
        recording_id=call.id,
        form_id=form.id,
        participant_ids=[user.id for user in people],
        title="Week 49",
    )
    return created.id


def submit(session: Session, user: User, calibration_id: str, form: EvaluationForm, values: list[str]) -> None:
    calibration.submit_scores(
        session, actor=actor_of(user), calibration_id=calibration_id, answers=answers(form, values)
    )


# ---------------------------------------------------------------- the service


def test_agreement_and_median_deviation_on_known_answers(
    session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    people = supervisors(session, list(KNOWN))
    calibration_id = start(session, organiser, call, form, people)
    for user in people:
        submit(session, user, calibration_id, form, KNOWN[user.username])

    results = calibration.view_calibration(session, actor=actor_of(organiser), calibration_id=calibration_id).results
    assert results is not None
    greeting, needs, price = results.questions
    assert (greeting.counts, greeting.modal, greeting.agreement) == ({"na": 1, "no": 1, "yes": 2}, ("yes",), 0.5)
    assert (needs.counts, needs.modal, needs.agreement) == ({"3": 2, "4": 1, "5": 1}, ("3",), 0.5)
    assert (price.counts, price.modal, price.agreement) == ({"no": 1, "yes": 3}, ("yes",), 0.75)
    assert results.agreement == round((0.5 + 0.5 + 0.75) / 3, 4)
    assert results.median == 62.5
    by_name = {e.username: (e.score, e.deviation, e.critical_failed) for e in results.evaluators}
    assert by_name == {
        "anna": (100.0, 37.5, False),
        "bert": (75.0, 12.5, False),
        "cecilia": (50.0, -12.5, False),
        "dmitri": (0.0, -62.5, True),
    }


def test_a_tie_names_every_modal_answer() -> None:
    scorings = [
        calibration.Scoring(user_id=str(n), name=str(n), total=total, critical_failed=False, answers={"q": value})
        for n, (total, value) in enumerate([(40.0, "yes"), (80.0, "no")])
    ]
    results = calibration.compare_scorings([("q", "Greeting")], scorings)
    assert (results.questions[0].modal, results.questions[0].agreement) == (("no", "yes"), 0.5)
    assert results.median == 60.0 and [e.deviation for e in results.evaluators] == [-20.0, 20.0]


def test_two_scorers_deviate_from_the_median_by_equal_and_opposite_amounts() -> None:
    """Found by exploratory testing: 82.35 and 100 showed -8.82 and +8.83 (the median was rounded first)."""
    scorings = [
        calibration.Scoring(user_id=str(n), name=str(n), total=total, critical_failed=False, answers={})
        for n, total in enumerate([82.35, 100.0])
    ]
    results = calibration.compare_scorings([], scorings)
    low, high = (e.deviation for e in results.evaluators)
    assert low is not None and high is not None and low == -high


def test_scores_stay_hidden_until_every_participant_has_submitted(
    session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    anna, bert, cecilia = supervisors(session, ["anna", "bert", "cecilia"])
    calibration_id = start(session, organiser, call, form, [anna, bert, cecilia])
    submit(session, anna, calibration_id, form, KNOWN["anna"])
    submit(session, bert, calibration_id, form, KNOWN["bert"])

    for user in (anna, bert, cecilia, organiser):
        view = calibration.view_calibration(session, actor=actor_of(user), calibration_id=calibration_id)
        assert view.results is None and not view.revealed
    assert calibration.view_calibration(session, actor=actor_of(cecilia), calibration_id=calibration_id).may_submit

    submit(session, cecilia, calibration_id, form, KNOWN["cecilia"])
    view = calibration.view_calibration(session, actor=actor_of(anna), calibration_id=calibration_id)
    assert view.revealed and view.results is not None and view.results.submitted == 3
    with pytest.raises(Conflict):
        submit(session, anna, calibration_id, form, KNOWN["bert"])  # one scoring each


def test_closing_reveals_what_was_submitted_and_ends_scoring(
    session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    anna, bert, cecilia = supervisors(session, ["anna", "bert", "cecilia"])
    calibration_id = start(session, organiser, call, form, [anna, bert, cecilia])
    submit(session, anna, calibration_id, form, KNOWN["anna"])
    with pytest.raises(Forbidden):
        calibration.close_calibration(session, actor=actor_of(bert), calibration_id=calibration_id)

    calibration.close_calibration(session, actor=actor_of(organiser), calibration_id=calibration_id)
    results = calibration.view_calibration(session, actor=actor_of(bert), calibration_id=calibration_id).results
    assert results is not None and [e.username for e in results.evaluators] == ["anna"]
    with pytest.raises(Conflict):
        submit(session, bert, calibration_id, form, KNOWN["bert"])


def test_calibration_scores_never_count_in_agent_results(
    session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    people = supervisors(session, ["anna", "bert"])
    calibration_id = start(session, organiser, call, form, people)
    for user in people:
        submit(session, user, calibration_id, form, KNOWN[user.username])
    assert calibration.view_calibration(session, actor=actor_of(organiser), calibration_id=calibration_id).revealed

    assert session.scalar(select(func.count()).select_from(Evaluation)) == 0
    assert sum(week.count for week in trends.weekly_scores(session, weeks=2, agent_ref="agent-calib")) == 0
    assert history.agent_evaluations(session, actor=actor_of(organiser), agent_ref="agent-calib") == []
    # A real evaluation of the same call is the only thing the trend counts.
    scoring.evaluate_call(
        session, actor=actor_of(organiser), recording_id=call.id, form_id=form.id, answers=answers(form, KNOWN["bert"])
    )
    weeks = trends.weekly_scores(session, weeks=2, agent_ref="agent-calib")
    assert [(week.count, week.average) for week in weeks if week.count] == [(1, 75.0)]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPLIANCE, Role.ADMIN])
def test_only_those_who_score_calls_take_part(
    session: Session, organiser: User, call: Recording, form: EvaluationForm, role: Role
) -> None:
    anna = make_user(session, role=Role.QA_SUPERVISOR)
    other = make_user(session, role=role)
    with pytest.raises(Invalid) as refused:
        start(session, organiser, call, form, [anna, other])
    assert refused.value.field == "participant_ids" and role in refused.value.message
    assert other not in calibration.eligible_participants(session)


def test_participants_must_be_able_to_see_the_call(
    session: Session, organiser: User, store: ObjectStore, envelope: Envelope, form: EvaluationForm
) -> None:
    restricted = make_recording(session, store, envelope, restricted=True)
    compliance = make_user(session, role=Role.COMPLIANCE)
    # The organiser cannot see a restricted call at all (not found, and the refusal carried for the audit trail).
    with pytest.raises(NotFound):
        start(session, organiser, restricted, form, supervisors(session, ["anna", "bert"]))
    with pytest.raises(Invalid) as refused:
        start(session, compliance, restricted, form, supervisors(session, ["cecilia", "dmitri"]))
    assert refused.value.field == "participant_ids"


def test_an_outsider_is_refused_and_the_refusal_carries_its_audit_event(
    session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    calibration_id = start(session, organiser, call, form, supervisors(session, ["anna", "bert"]))
    outsider = make_user(session, role=Role.QA_SUPERVISOR)
    with pytest.raises(NotFound) as refused:  # as a session that does not exist: no id is told to be one
        calibration.view_calibration(session, actor=actor_of(outsider), calibration_id=calibration_id)
    assert refused.value.refusal is not None and refused.value.refusal.action == "calibration.access_denied"
    with pytest.raises(Forbidden):  # the organiser organises; only participants score
        submit(session, organiser, calibration_id, form, KNOWN["anna"])
    assert calibration.list_calibrations(session, actor=actor_of(outsider)) == []


def test_creation_each_submission_and_the_reveal_are_audited(
    session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    people = supervisors(session, ["anna", "bert"])
    calibration_id = start(session, organiser, call, form, people)
    for user in people:
        submit(session, user, calibration_id, form, KNOWN[user.username])
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("calibration.%")).order_by(AuditEvent.seq)
    ).all()
    assert [(e.action, e.actor_id, e.object_id) for e in events] == [
        ("calibration.created", organiser.id, call.id),
        ("calibration.submitted", people[0].id, call.id),
        ("calibration.submitted", people[1].id, call.id),
        ("calibration.revealed", people[1].id, call.id),
    ]
    assert all(e.details["calibration_id"] == calibration_id for e in events)
    assert events[-1].details["reason"] == "all_submitted"

    # Found in review: closing a session already revealed (everyone submitted) left no event.
    calibration.close_calibration(session, actor=actor_of(organiser), calibration_id=calibration_id)
    closed = session.scalars(select(AuditEvent).where(AuditEvent.action == "calibration.closed")).all()
    assert [(e.actor_id, e.object_id, e.details) for e in closed] == [
        (organiser.id, call.id, {"calibration_id": calibration_id})
    ]


# ---------------------------------------------------------------- the API


def api_client(app: Flask, user: User) -> tuple[FlaskClient, dict[str, str]]:
    """A signed-in client and the CSRF header its session's JSON requests carry."""
    client = app.test_client()
    login(client, user)
    return client, {"X-CSRFToken": csrf_token(client, "/calibration/new")}


def body_of(form: EvaluationForm, values: list[str]) -> dict[str, Any]:
    return {"answers": {q.id: {"value": v} for q, v in zip(form.questions, values, strict=True)}}


def test_api_is_blind_until_all_submit_then_shows_the_figures(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    anna, bert, cecilia = supervisors(session, ["anna", "bert", "cecilia"])
    lead, lead_csrf = api_client(app, organiser)
    created = lead.post(
        "/api/v1/calibration-sessions",
        headers=lead_csrf,
        json={"recording_id": call.id, "form_id": form.id, "participant_ids": [anna.id, bert.id, cecilia.id]},
    )
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/calibration-sessions/{created.get_json()['id']}"

    clients = {user.username: api_client(app, user) for user in (anna, bert, cecilia)}
    client, csrf = clients["anna"]
    submitted = client.post(f"{path}/scores", headers=csrf, json=body_of(form, KNOWN["anna"]))
    assert submitted.status_code == 201, submitted.get_json()
    own = submitted.get_json()
    assert own["state"] == "open" and own["results"] is None and own["my_score"] == 100.0
    assert {a["value"] for a in own["my_answers"].values()} == {"yes", "5"}

    client, _ = clients["bert"]
    seen = client.get(path).get_json()
    assert seen["results"] is None and seen["my_answers"] is None and seen["my_score"] is None
    assert [(p["username"], p["submitted"]) for p in seen["participants"]] == [
        ("anna", True),
        ("bert", False),
        ("cecilia", False),
    ]
    assert lead.get(path).get_json()["results"] is None

    for name in ("bert", "cecilia"):
        client, csrf = clients[name]
        assert client.post(f"{path}/scores", headers=csrf, json=body_of(form, KNOWN[name])).status_code == 201
    revealed = clients["bert"][0].get(path).get_json()
    assert revealed["state"] == "revealed"
    results = revealed["results"]
    assert (results["submitted"], results["median"]) == (3, 75.0)
    assert [(e["username"], e["deviation"]) for e in results["evaluators"]] == [
        ("anna", 25.0),
        ("bert", 0.0),
        ("cecilia", -25.0),
    ]
    assert [round(q["agreement"], 4) for q in results["questions"]] == [0.6667, 0.6667, 1.0]

    listed = lead.get("/api/v1/calibration-sessions").get_json()["items"]
    assert [(item["state"], item["submitted"], item["participants"]) for item in listed] == [("revealed", 3, 3)]


def test_api_validation_errors_name_the_field(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    anna, trainer = make_user(session), make_user(session, role=Role.TRAINER)
    lead, csrf = api_client(app, organiser)

    def create(**body: Any) -> tuple[int, dict[str, Any]]:
        sent = {"recording_id": call.id, "form_id": form.id, "participant_ids": [anna.id, organiser.id], **body}
        response = lead.post("/api/v1/calibration-sessions", headers=csrf, json=sent)
        return response.status_code, response.get_json()

    assert create(participant_ids=[anna.id])[1]["field"] == "participant_ids"
    status, body = create(participant_ids=[anna.id, trainer.id])
    assert (status, body["field"]) == (422, "participant_ids") and "trainer" in body["message"]
    assert create(form_id="nope")[1]["field"] == "form_id"
    assert create(colour="red")[1]["field"] == "colour"

    created = create()[1]
    path = f"/api/v1/calibration-sessions/{created['id']}/scores"
    client, anna_csrf = api_client(app, anna)
    partial = body_of(form, KNOWN["anna"])
    missing = form.questions[2].id
    del partial["answers"][missing]
    answered = client.post(path, headers=anna_csrf, json=partial)
    assert (answered.status_code, answered.get_json()["field"]) == (422, f"answers.{missing}")
    assert (
        session.scalar(select(CalibrationParticipant.submitted_at).where(CalibrationParticipant.user_id == anna.id))
        is None
    )


def test_api_refuses_trainers_and_compliance_and_outsiders(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    calibration_id = start(session, organiser, call, form, supervisors(session, ["anna", "bert"]))
    path = f"/api/v1/calibration-sessions/{calibration_id}"
    for role in (Role.TRAINER, Role.COMPLIANCE):
        client = app.test_client()
        login(client, make_user(session, role=role))
        assert client.get(path).status_code == 403
        assert client.get("/api/v1/calibration-sessions").status_code == 403
    outsider = app.test_client()
    login(outsider, make_user(session, role=Role.QA_SUPERVISOR))
    refused = outsider.get(path)
    unknown = outsider.get(path[: -len(calibration_id)] + "01JNOSUCHSESSIONAAAAAAAAAA")
    assert (refused.status_code, refused.get_json()["error"]) == (404, "not_found")
    assert unknown.status_code == 404


def test_api_close_reveals_and_refuses_later_scores(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    anna, bert = supervisors(session, ["anna", "bert"])
    path = f"/api/v1/calibration-sessions/{start(session, organiser, call, form, [anna, bert])}"
    anna_client, anna_csrf = api_client(app, anna)
    assert anna_client.post(f"{path}/scores", headers=anna_csrf, json=body_of(form, KNOWN["anna"])).status_code == 201
    assert anna_client.post(f"{path}/close", headers=anna_csrf).status_code == 403  # the organiser's call

    lead, lead_csrf = api_client(app, organiser)
    closed = lead.post(f"{path}/close", headers=lead_csrf)
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert [e["username"] for e in closed.get_json()["results"]["evaluators"]] == ["anna"]
    bert_client, bert_csrf = api_client(app, bert)
    late = bert_client.post(f"{path}/scores", headers=bert_csrf, json=body_of(form, KNOWN["bert"]))
    assert (late.status_code, late.get_json()["error"]) == (409, "conflict")
