"""Calibration pages: a QA supervisor starts a session from the menu, participants score blind, then compare."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.models import CalibrationSession, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user, post_form
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of

# Greeting, Needs analysis (scale), Correct price (critical): totals 100, 75 and 50.
SCORINGS = {"anna": ["yes", "5", "yes"], "bert": ["yes", "3", "yes"], "cecilia": ["no", "3", "yes"]}


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-calib-ui")


@pytest.fixture
def organiser(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="olga")


@pytest.fixture
def form(session: Session, organiser: User) -> EvaluationForm:
    return published_form(session, actor_of(organiser))


def fields(form: EvaluationForm, values: list[str]) -> dict[str, str]:
    return {f"answers.{q.id}": v for q, v in zip(form.questions, values, strict=True)}


def test_three_supervisors_score_blind_then_see_agreement_and_deviation(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    people = {name: make_user(session, role=Role.QA_SUPERVISOR, username=name) for name in SCORINGS}
    lead = client_of(app, organiser)
    menu = lead.get("/calibration/").get_data(as_text=True)
    assert 'href="/calibration/new"' in menu
    assert re.search(r'<nav aria-label="Main">.*href="/calibration/".*</nav>', menu, re.S)

    new = lead.get(f"/calibration/new?recording_id={call.id}").get_data(as_text=True)
    assert f'value="{call.id}"' in new and f'value="{people["anna"].id}"' in new
    created = lead.post(
        "/calibration/new",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', new)[1],  # type: ignore[index]
            "recording_id": call.id,
            "form_id": form.id,
            "title": "Week 49",
            "participant_ids": [user.id for user in people.values()],
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    found = session.scalars(select(CalibrationSession)).one()
    path = f"/calibration/{found.id}"
    assert created.headers["Location"] == path

    clients = {name: client_of(app, user) for name, user in people.items()}
    anna_page = clients["anna"].get(path).get_data(as_text=True)
    assert f'href="/calls/{call.id}"' in anna_page  # the call, to hear and read beside the form
    assert "Submit my scores" in anna_page
    sent = post_form(clients["anna"], f"{path}/scores", fields(form, SCORINGS["anna"]), token_from=path)
    assert sent.status_code == 302
    anna_after = clients["anna"].get(path).get_data(as_text=True)
    assert "100.0" in anna_after and 'id="agreement"' not in anna_after

    bert_page = clients["bert"].get(path).get_data(as_text=True)
    assert "100.0" not in bert_page and 'id="agreement"' not in bert_page and 'id="deviation"' not in bert_page
    assert "anna: submitted" in bert_page and "bert: not yet submitted" in bert_page
    assert 'id="agreement"' not in lead.get(path).get_data(as_text=True)

    for name in ("bert", "cecilia"):
        assert (
            post_form(clients[name], f"{path}/scores", fields(form, SCORINGS[name]), token_from=path).status_code == 302
        )
    shown = clients["bert"].get(path).get_data(as_text=True)
    assert 'id="agreement"' in shown and "Submit my scores" not in shown
    assert "<td>Yes</td><td>67 %</td>" in shown  # greeting: two of three said yes
    assert "<td>Yes</td><td>100 %</td>" in shown  # correct price: all said yes
    deviations = re.findall(r'<tr><th scope="row">(\w+)</th><td>([\d.]+)\s*</td><td>([+−-][\d.]+)</td></tr>', shown)
    assert deviations == [("anna", "100.0", "+25.0"), ("bert", "75.0", "+0.0"), ("cecilia", "50.0", "-25.0")]
    # In Finnish with decimal commas, as the scores beside them (found by exploratory testing: "79.2", "+20.8").
    finnish = clients["bert"].get(path, headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert ": 75,0." in finnish and "+25,0</td>" in finnish and "-25,0</td>" in finnish
    listed = lead.get("/calibration/").get_data(as_text=True)
    assert "Week 49" in listed and "3 / 3" in listed


def test_a_missing_answer_is_shown_on_its_question_and_nothing_is_stored(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    anna, bert = make_user(session, username="anna"), make_user(session, username="bert")
    lead = client_of(app, organiser)
    made = post_form(
        lead,
        "/calibration/new",
        {"recording_id": call.id, "form_id": form.id, "participant_ids": anna.id},
        token_from="/calibration/new",
    )
    assert made.status_code == 422 and "choose 2 to 20 different participants" in made.get_data(as_text=True)
    assert 'class="participants" aria-invalid="true"' in made.get_data(as_text=True)

    found = session.get(CalibrationSession, _create(session, organiser, call, form, [anna, bert]))
    assert found is not None
    path = f"/calibration/{found.id}"
    client = client_of(app, anna)
    values = fields(form, SCORINGS["anna"])
    missing = form.questions[1].id
    del values[f"answers.{missing}"]
    response = post_form(client, f"{path}/scores", values, token_from=path)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "answer required: Needs analysis" in page
    assert page.count('aria-invalid="true"') == 1
    session.refresh(found)
    assert all(p.submitted_at is None for p in found.participants)


def test_trainers_and_compliance_neither_see_nor_take_part(
    app: Flask, session: Session, organiser: User, call: Recording, form: EvaluationForm
) -> None:
    calibration_id = _create(session, organiser, call, form, [make_user(session), make_user(session)])
    for role in (Role.TRAINER, Role.COMPLIANCE):
        client = client_of(app, make_user(session, role=role))
        assert 'href="/calibration/"' not in client.get("/dashboard").get_data(as_text=True)
        assert client.get("/calibration/").status_code == 403
        assert client.get(f"/calibration/{calibration_id}").status_code == 403
    # Nor can they be chosen: the new-session page offers only those who score calls.
    trainer = make_user(session, role=Role.TRAINER)
    assert f'value="{trainer.id}"' not in client_of(app, organiser).get("/calibration/new").get_data(as_text=True)


def _create(session: Session, organiser: User, call: Recording, form: EvaluationForm, people: list[User]) -> str:
    return calibration.create_calibration(
        session,
        actor=actor_of(organiser),
        recording_id=call.id,
        form_id=form.id,
        participant_ids=[user.id for user in people],
    ).id
