"""A submit refused for a moment past the call's end keeps every answer typed into it as the draft, that moment
left out. Found by exploratory testing of the scoring workflow: the draft kept of a refused submit was refused for
the same moment, so only what the last autosave held survived; and the refusal named as the last moment one
rounded up past the call's end (23.7 of a 23.68 s call)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Evaluation, EvaluationForm, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user, post_form
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.page_text import visible_text


@pytest.fixture
def scoring(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> tuple[Recording, EvaluationForm]:
    """A call of 23.678 s and a published form, the client signed in as a QA supervisor."""
    call = make_recording(session, store, envelope, duration_s=23.678)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    login(client, supervisor)
    return call, form


def test_a_submit_refused_for_a_moment_past_the_end_keeps_the_other_answers(
    client: FlaskClient, session: Session, scoring: tuple[Recording, EvaluationForm]
) -> None:
    call, form = scoring
    greeting, needs, price = form.questions
    page = f"/calls/{call.id}"
    typed = {
        "form_id": form.id,
        f"answers.{greeting.id}": "yes",
        f"at.{greeting.id}": "3.5",
        f"answers.{needs.id}": "4",
        f"at.{needs.id}": "999",
        f"answers.{price.id}": "no",
    }

    refused = post_form(client, f"{page}/evaluation", typed, token_from=page)

    assert refused.status_code == 302
    shown = visible_text(client.get(refused.headers["Location"]).get_data(as_text=True))
    assert "enter a moment of the call, 0 to 23.6 seconds" in shown
    session.expire_all()
    draft = session.scalars(select(Evaluation).where(Evaluation.recording_id == call.id)).one()
    assert draft.state == "draft"
    kept = {answer.question_id: (answer.value, answer.at_s) for answer in draft.answers}
    assert kept == {greeting.id: ("yes", 3.5), needs.id: ("4", None), price.id: ("no", None)}


def test_the_autosave_says_its_refusal_in_the_readers_language(
    client: FlaskClient, session: Session, scoring: tuple[Recording, EvaluationForm]
) -> None:
    """Found by exploratory testing: a Finnish page's autosave said "a moment of the call, 0 to 23.6781 seconds" (the
    service's English words), after its own Finnish "Luonnosta ei voitu tallentaa:"."""
    call, form = scoring
    page = f"/calls/{call.id}"
    greeting = form.questions[0]
    data = {"form_id": form.id, f"answers.{greeting.id}": "yes", f"at.{greeting.id}": "999"}

    refused = client.post(
        f"{page}/evaluation/draft",
        data={**data, "csrf_token": csrf_token(client, page)},
        headers={"Accept": "application/json", "Accept-Language": "fi"},
    )

    assert refused.status_code == 422
    assert refused.get_json() == {
        "error": "out_of_range",
        "field": f"at.{greeting.id}",
        "message": "anna puhelun kohta, 0–23,6 sekuntia",
    }


def test_a_submit_refused_for_several_comments_and_moments_keeps_every_answer(
    client: FlaskClient, session: Session, scoring: tuple[Recording, EvaluationForm]
) -> None:
    """Found by review: the draft of a refused submit was tried once per question, though each question can be
    refused twice (its comment, then its moment), and an overlong overall comment kept no draft at all."""
    call, form = scoring
    greeting, needs, price = form.questions
    page = f"/calls/{call.id}"
    overlong = "x" * 4001
    typed = {
        "form_id": form.id,
        "comment": overlong,
        f"answers.{greeting.id}": "yes",
        f"comments.{greeting.id}": overlong,
        f"at.{greeting.id}": "999",
        f"answers.{needs.id}": "4",
        f"comments.{needs.id}": overlong,
        f"at.{needs.id}": "998",
        f"answers.{price.id}": "no",
        f"comments.{price.id}": "kept",
    }

    assert post_form(client, f"{page}/evaluation", typed, token_from=page).status_code == 302

    session.expire_all()
    draft = session.scalars(select(Evaluation).where(Evaluation.recording_id == call.id)).one()
    kept = {answer.question_id: (answer.value, answer.at_s, answer.comment) for answer in draft.answers}
    assert kept == {greeting.id: ("yes", None, ""), needs.id: ("4", None, ""), price.id: ("no", None, "kept")}
    assert draft.comment == ""
