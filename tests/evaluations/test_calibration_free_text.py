"""What scorers write in a calibration session (its title, their comments) is held to the rule all free text is
(`recordings_service.written_text`), and an evaluation's comment is counted as it is kept. Found in a sweep of the
free-text fields: a title or a comment that fits once its surrounding whitespace is trimmed was refused for that
padding, and a title took a zero-width space alone or a bidi override (U+202E), a comment an escape or U+0001, as
typed: each shown to the other participants once scores are revealed. A title is one line of visible text; comments
keep their line breaks and tabs and refuse other control characters and the bidi controls (422 `invalid_character`
naming the field, in the reader's language on the pages)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.evaluations.comments import MAX_COMMENT_CHARS
from recordings_service.models import CalibrationParticipant, CalibrationSession, Evaluation, EvaluationForm, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.evaluations import actor_of, evaluation_token, published_form
from tests.factories.free_text import CONTROLS, refused_character
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

LINES = "Good opening.\n\n\tThe pause at 0:40 is the question: 👍🏽"
INVISIBLE = {"zero-width space": "\u200b", "bidi override": "Week \u202e49", "line break": "Week\n49"}
SAID = {
    "title": {"fi": "otsikko on yksi rivi näkyvää tekstiä", "en": "a title is one line of visible text"},
    "lines": {"fi": "rivinvaihdot ja sarkaimet käyvät tässä", "en": "line breaks and tabs are fine here"},
}


@pytest.fixture
def organiser(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR)


@pytest.fixture
def form(session: Session, organiser: User) -> EvaluationForm:
    return published_form(session, actor_of(organiser))


def api_client(app: Flask, user: User) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    login(client, user)
    return client, {"X-CSRFToken": csrf_token(client, "/calibration/new")}


def a_session(session: Session, organiser: User, form: EvaluationForm, store: ObjectStore, envelope: Envelope) -> str:
    anna = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope)
    made = calibration.create_calibration(
        session,
        actor=actor_of(organiser),
        recording_id=call.id,
        form_id=form.id,
        participant_ids=[anna.id, organiser.id],
    )
    session.commit()
    return made.id


def scores(form: EvaluationForm, *, comment: str = "", question_comment: str = "") -> dict[str, Any]:
    values = ["yes", "4", "yes"]
    answers = {q.id: {"value": v, "comment": question_comment} for q, v in zip(form.questions, values, strict=True)}
    return {"answers": answers, "comment": comment}


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_title_holding_an_invisible_character_is_refused_naming_it(
    app: Flask,
    session: Session,
    organiser: User,
    form: EvaluationForm,
    store: ObjectStore,
    envelope: Envelope,
    typed: str,
) -> None:
    anna = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope)
    session.commit()
    lead, csrf = api_client(app, organiser)

    body = {"recording_id": call.id, "form_id": form.id, "participant_ids": [anna.id, organiser.id], "title": typed}
    refused_character(lead.post("/api/v1/calibration-sessions", headers=csrf, json=body), "title")
    assert session.scalar(select(CalibrationSession.id)) is None


@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_comment_holding_a_control_character_is_refused_naming_it(
    app: Flask,
    session: Session,
    organiser: User,
    form: EvaluationForm,
    store: ObjectStore,
    envelope: Envelope,
    typed: str,
) -> None:
    path = f"/api/v1/calibration-sessions/{a_session(session, organiser, form, store, envelope)}/scores"
    client, csrf = api_client(app, organiser)

    refused_character(client.post(path, headers=csrf, json=scores(form, comment=typed)), "comment")
    refused_character(
        client.post(path, headers=csrf, json=scores(form, question_comment=typed)), f"comments.{form.questions[0].id}"
    )
    assert (
        session.scalar(
            select(CalibrationParticipant.submitted_at).where(CalibrationParticipant.user_id == organiser.id)
        )
        is None
    )


def test_text_is_counted_as_kept_and_keeps_its_lines(
    app: Flask, session: Session, organiser: User, form: EvaluationForm, store: ObjectStore, envelope: Envelope
) -> None:
    anna = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope)
    session.commit()
    lead, csrf = api_client(app, organiser)
    title = "T" * calibration.MAX_TITLE_CHARS

    body = {"recording_id": call.id, "form_id": form.id, "participant_ids": [anna.id, organiser.id]}
    created = lead.post("/api/v1/calibration-sessions", headers=csrf, json={**body, "title": f"  {title}\n"})
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/calibration-sessions/{created.get_json()['id']}/scores"
    padded = "c" * MAX_COMMENT_CHARS + "\n\n "
    submitted = lead.post(path, headers=csrf, json=scores(form, comment=padded, question_comment=LINES))
    assert submitted.status_code == 201, submitted.get_json()

    session.expire_all()
    assert session.scalars(select(CalibrationSession.title)).one() == title
    mine = session.scalars(select(CalibrationParticipant).where(CalibrationParticipant.user_id == organiser.id)).one()
    assert mine.comment == "c" * MAX_COMMENT_CHARS
    assert {answer.comment for answer in mine.answers} == {LINES}


def test_an_evaluations_comment_is_counted_as_kept(
    client: FlaskClient, session: Session, organiser: User, form: EvaluationForm, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope)
    qa = evaluation_token(session, organiser)
    padded = "c" * MAX_COMMENT_CHARS + "\n\n "
    answers = [{"question_id": q.id, "value": v} for q, v in zip(form.questions, ["yes", "4", "yes"], strict=True)]

    body = {"recording_id": call.id, "form_id": form.id, "answers": answers, "comment": padded, "submit": True}
    made = client.post("/api/v1/evaluations", json=body, headers=qa)

    assert made.status_code == 201, made.get_json()
    assert session.scalars(select(Evaluation.comment)).one() == "c" * MAX_COMMENT_CHARS


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    app: Flask,
    session: Session,
    organiser: User,
    form: EvaluationForm,
    store: ObjectStore,
    envelope: Envelope,
    headers: dict[str, str],
    lang: str,
) -> None:
    calibration_id = a_session(session, organiser, form, store, envelope)
    lead = client_of(app, organiser)
    anna = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope)
    session.commit()

    new = "/calibration/new"
    typed = {
        "recording_id": call.id,
        "form_id": form.id,
        "title": "Week \u202e49",
        "participant_ids": [anna.id, organiser.id],
    }
    titled = post_as(lead, new, typed, token_from=new, headers=headers)  # type: ignore[arg-type]
    assert titled.status_code == 422
    assert SAID["title"][lang] in shown_after(lead, titled, headers=headers)

    page = f"/calibration/{calibration_id}"
    answers = {f"answers.{q.id}": v for q, v in zip(form.questions, ["yes", "4", "yes"], strict=True)}
    commented = post_as(lead, f"{page}/scores", {**answers, "comment": "Good\x1b"}, token_from=page, headers=headers)
    assert commented.status_code == 422
    assert SAID["lines"][lang] in shown_after(lead, commented, headers=headers)
    assert session.scalar(select(CalibrationSession.id).where(CalibrationSession.id != calibration_id)) is None
