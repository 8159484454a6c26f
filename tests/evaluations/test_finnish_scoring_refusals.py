"""Found by exploratory testing: a QA supervisor reading Finnish who submitted the call page's evaluation panel
with a question unanswered read "answer required: Verified the customer's identity …" — English, naming the
question in English while the panel beside it showed it in Finnish; the same for an evidence moment past the call's
end and a calibration session's missing answer; and a saved score read "73.4 / 100" where every Finnish page
writes 73,4. The refusals now say it in the reader's language, naming the question as the form shows it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.models import EvaluationForm, Recording, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, seeded_form
from tests.factories.reviews import make_transcribed_call
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, post_finnish, shown_after, shown_after_post

# The seeded form's third question (identification), as the Finnish panel shows it.
IDENTITY_FI = "Varmisti asiakkaan henkilöllisyyden"


@pytest.fixture
def form(session: Session) -> EvaluationForm:
    return seeded_form(session)


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope, agent_ref="agent-fi")


def full_answers(form: EvaluationForm) -> dict[str, str]:
    return {f"answers.{q.id}": "5" if q.answer_type == "scale_1_5" else "yes" for q in form.questions}


def test_an_incomplete_evaluation_is_refused_in_finnish_naming_the_question_as_shown(
    app: Flask, supervisor: User, form: EvaluationForm, call: Recording
) -> None:
    client = client_of(app, supervisor)
    page = f"/calls/{call.id}"
    first = form.questions[0]
    sent = {"form_id": form.id, f"answers.{first.id}": "yes"}

    shown = shown_after(client, post_finnish(client, f"{page}/evaluation", sent, token_from=page))

    # The first question left unanswered is the second, the recording notice.
    assert "answer required" not in shown and "Told the customer" not in shown
    assert "vastaus puuttuu: Kertoi asiakkaalle, että puhelu tallennetaan" in shown
    # English readers keep the service's words.
    english = shown_after_post(client, f"{page}/evaluation", sent, token_from=page, headers=ENGLISH)
    assert "answer required: Told the customer that the call is recorded" in english


def test_an_evidence_moment_past_the_call_and_the_saved_score_read_in_finnish(
    app: Flask, supervisor: User, form: EvaluationForm, call: Recording
) -> None:
    client = client_of(app, supervisor)
    page = f"/calls/{call.id}"
    past_end = {"form_id": form.id, **full_answers(form), f"at.{form.questions[0].id}": "99999"}

    refused = shown_after(client, post_finnish(client, f"{page}/evaluation", past_end, token_from=page))
    assert "a moment of the call" not in refused and "anna puhelun kohta, 0–" in refused

    saved = shown_after(
        client, post_finnish(client, f"{page}/evaluation", {"form_id": form.id, **full_answers(form)}, token_from=page)
    )
    assert "Arviointi tallennettu: 100,0 / 100." in saved


def test_a_calibration_answer_missing_is_refused_in_finnish(
    app: Flask, session: Session, supervisor: User, form: EvaluationForm, call: Recording
) -> None:
    anna, bert = make_user(session, username="anna"), make_user(session, username="bert")
    session_id = calibration.create_calibration(
        session, actor=actor_of(supervisor), recording_id=call.id, form_id=form.id, participant_ids=[anna.id, bert.id]
    ).id
    path = f"/calibration/{session_id}"
    values = full_answers(form)
    del values[f"answers.{form.questions[2].id}"]

    response = post_finnish(client_of(app, anna), f"{path}/scores", values, token_from=path)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "answer required" not in page and f"vastaus puuttuu: {IDENTITY_FI}" in page
