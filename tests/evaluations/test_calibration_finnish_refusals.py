"""Found by exploratory testing: a Finnish calibration page refused an overall comment over 4000 characters with
"at most 4000 characters" and a session title over 200 with "at most 200 characters", in English, as the service
wrote them: those refusals had no code the pages' message table lists. They now read in the reader's language, the
field marked and what was typed kept, as the choice of participants does."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.models import EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish


@pytest.fixture
def organiser(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="olga")


@pytest.fixture
def form(session: Session, organiser: User) -> EvaluationForm:
    return published_form(session, actor_of(organiser))


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope)


def test_an_overall_comment_too_long_is_refused_in_finnish(
    app: Flask, session: Session, organiser: User, form: EvaluationForm, call: Recording
) -> None:
    anna, bert = (make_user(session, role=Role.QA_SUPERVISOR, username=name) for name in ("anna", "bert"))
    session_id = calibration.create_calibration(
        session, actor=actor_of(organiser), recording_id=call.id, form_id=form.id, participant_ids=[anna.id, bert.id]
    ).id
    path = f"/calibration/{session_id}"
    greeting, needs, price = form.questions
    answers = {f"answers.{greeting.id}": "yes", f"answers.{needs.id}": "4", f"answers.{price.id}": "yes"}

    sent = post_finnish(client_of(app, anna), f"{path}/scores", {**answers, "comment": "x" * 4001}, token_from=path)

    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    shown = visible_text(page)
    assert "at most 4000 characters" not in shown and "enintään 4000 merkkiä" in shown
    assert 'name="comment" rows="3" maxlength="4000" aria-invalid="true"' in page
    assert "x" * 4001 in page


@pytest.mark.parametrize(
    ("changed", "english", "finnish"),
    [
        pytest.param({"title": "T" * 201}, "at most 200", "otsikossa voi olla enintään 200 merkkiä", id="title"),
        pytest.param({"one_participant": "1"}, "between 2 and 20", "valitse 2–20 eri osallistujaa", id="participants"),
    ],
)
def test_a_new_session_refused_reads_in_finnish(
    app: Flask,
    session: Session,
    organiser: User,
    form: EvaluationForm,
    call: Recording,
    changed: dict[str, str],
    english: str,
    finnish: str,
) -> None:
    people = [make_user(session, role=Role.QA_SUPERVISOR, username=name) for name in ("anna", "bert")]
    chosen = [people[0].id] if "one_participant" in changed else [user.id for user in people]
    typed = {"recording_id": call.id, "form_id": form.id, "title": changed.get("title", "Week 49")}

    sent = post_finnish(
        client_of(app, organiser),
        "/calibration/new",
        {**typed, "participant_ids": chosen},  # type: ignore[dict-item]
        token_from="/calibration/new",
    )

    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    shown = visible_text(page)
    assert english not in shown and finnish in shown
    assert f'value="{typed["title"]}"' in page and f'value="{call.id}"' in page
