"""A form's new version does not strand evaluations begun on the old one: the call page opens the evaluator's own
evaluation on the version it began on (a draft to finish, a score to revise), a score given again revises it instead
of making a second evaluation of the call, and new evaluations and calibration sessions use the newest version.

Found by exploratory testing of the QA workflow: once version 2 was published, the panel offered only it, empty; a
version 1 draft could not be finished, and scoring the call again made a second evaluation by the same evaluator,
which the agent's results counted beside the first (95.8 instead of the corrected 91.67); and the API took new
evaluations and calibration sessions on version 1."""

from __future__ import annotations

import dataclasses

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import forms, scoring
from recordings_service.models import Evaluation, EvaluationForm, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import SMALL_FORM, actor_of, answers, evaluation_token, published_form
from tests.factories.recordings import make_recording


def evaluations_of(session: Session, call: Recording) -> list[Evaluation]:
    session.expire_all()
    return list(session.scalars(select(Evaluation).where(Evaluation.recording_id == call.id)))


def test_the_call_page_opens_the_evaluation_on_its_version_and_a_new_score_revises_it(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope, agent_ref="agent-v", queue="moving")
    v1 = published_form(session, actor_of(make_user(session)))
    scoring.evaluate_call(
        session,
        actor=actor_of(supervisor),
        recording_id=call.id,
        form_id=v1.id,
        answers=answers(v1, ["yes", "5", "yes"]),
        comment="greeting fine",
    )
    draft = forms.edit_form(session, actor=actor_of(make_user(session)), form_id=v1.id, spec=SMALL_FORM)
    v2 = forms.publish_form(session, actor=actor_of(make_user(session)), form_id=draft.id)
    session.commit()
    login(client, supervisor)
    path = f"/calls/{call.id}"

    page = client.get(path).get_data(as_text=True)
    # A link naming the newest version (the page a refused submit on it comes back to) opens the same evaluation,
    # not the first form of the list (here another form, named to sort first).
    published_form(session, actor_of(make_user(session)), dataclasses.replace(SMALL_FORM, name="A first form"))
    session.commit()
    linked = client.get(f"{path}?form_id={v2.id}").get_data(as_text=True)

    for shown in (page, linked):
        assert f'name="form_id" value="{v1.id}"' in shown and f'name="form_id" value="{v2.id}"' not in shown
        assert "greeting fine" in shown and "Submit changes as a new version" in shown
    greeting, needs, price = v1.questions
    fields = {
        "form_id": v1.id,
        f"answers.{greeting.id}": "no",
        f"answers.{needs.id}": "5",
        f"answers.{price.id}": "yes",
    }
    assert post_form(client, f"/calls/{call.id}/evaluation", fields, token_from=path).status_code == 302
    [evaluation] = evaluations_of(session, call)
    assert (evaluation.form_id, evaluation.version) == (v1.id, 2)


def test_new_evaluations_and_calibration_sessions_use_the_newest_version(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    first, second = (make_recording(session, store, envelope, agent_ref="agent-v", queue="moving") for _ in range(2))
    v1 = published_form(session, actor_of(make_user(session)))
    scoring.save_draft(
        session, actor=actor_of(supervisor), recording_id=first.id, form_id=v1.id, answers={}, comment="begun"
    )
    draft = forms.edit_form(session, actor=actor_of(make_user(session)), form_id=v1.id, spec=SMALL_FORM)
    v2 = forms.publish_form(session, actor=actor_of(make_user(session)), form_id=draft.id)
    session.commit()
    headers = evaluation_token(session, supervisor)

    def create(call: Recording, form: EvaluationForm) -> tuple[int, dict[str, object]]:
        body = {"recording_id": call.id, "form_id": form.id, "answers": [], "submit": False}
        answer = client.post("/api/v1/evaluations", json=body, headers=headers)
        return answer.status_code, answer.get_json()

    superseded = create(second, v1)
    beside_the_draft = create(first, v2)
    on_the_newest = create(second, v2)

    assert superseded[0] == 422 and (superseded[1]["error"], superseded[1]["field"]) == ("form_superseded", "form_id")
    assert beside_the_draft[0] == 409 and "update evaluation" in str(beside_the_draft[1]["message"])
    assert on_the_newest[0] == 201
    assert len(evaluations_of(session, first)) == len(evaluations_of(session, second)) == 1
    participants = [make_user(session, role=Role.QA_SUPERVISOR).id for _ in range(2)]
    session.commit()
    body = {"recording_id": first.id, "form_id": v1.id, "title": "Week 49", "participant_ids": participants}
    calibration = client.post("/api/v1/calibration-sessions", json=body, headers=headers)
    assert calibration.status_code == 422 and calibration.get_json()["field"] == "form_id"
    assert "replaced by version 2" in calibration.get_json()["message"]
