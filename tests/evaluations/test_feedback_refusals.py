"""Found by exploratory testing: a refused dispute or resolution came back as a redirect with a flashed English
error, and what was typed (the comment, the note, the re-score answers) was gone. The page now comes back with
it kept, the reason beside the form in the reader's language and the field marked invalid (422, 409 for a
conflict); and a textarea's line breaks count once, as its maxlength counts them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback
from recordings_service.models import Evaluation, EvaluationForm, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, post_form
from tests.factories.evaluations import actor_of, make_agent_user, released
from tests.factories.recordings import make_recording
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish

# 4000 characters as a textarea with maxlength=4000 counts them, 20 of them line breaks; sent as CRLF.
TYPED_4000 = "\n".join(["x" * 189] * 20 + ["y" * 200])
assert len(TYPED_4000) == 4000


@pytest.fixture
def evaluation(
    session: Session, store: ObjectStore, envelope: Envelope, supervisor: User, form: EvaluationForm
) -> Evaluation:
    recording = make_recording(session, store, envelope, agent_ref="agent-typed", queue="sales")
    return released(session, supervisor, form, recording, ["yes", "5", "no"])


@pytest.fixture
def agent_client(client: FlaskClient, session: Session, evaluation: Evaluation) -> FlaskClient:
    login(client, make_agent_user(session, "agent-typed"))
    return client


def test_an_overlong_dispute_comes_back_with_the_comment_kept_and_marked(
    agent_client: FlaskClient, evaluation: Evaluation
) -> None:
    page = f"/feedback/{evaluation.id}"
    comment = "Hinta oli oikein. " + "x" * 4000
    refused = post_finnish(agent_client, f"{page}/dispute", {"comment": comment}, token_from=page)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'aria-invalid="true" aria-describedby="dispute-error">{comment}</textarea>' in html
    text = visible_text(html)
    assert "enintään 4000 merkkiä" in text and "at most" not in text


def test_an_empty_dispute_is_refused_beside_the_form_in_finnish(
    agent_client: FlaskClient, evaluation: Evaluation
) -> None:
    page = f"/feedback/{evaluation.id}"
    refused = post_finnish(agent_client, f"{page}/dispute", {"comment": "  "}, token_from=page)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="dispute-error"' in html and 'aria-describedby="dispute-error"' in html
    text = visible_text(html)
    assert "kerro, mitä kiistät ja miksi" in text and "say what you dispute" not in text


def test_answering_twice_is_a_conflict_said_in_finnish(
    agent_client: FlaskClient, session: Session, evaluation: Evaluation
) -> None:
    page = f"/feedback/{evaluation.id}"
    assert post_form(agent_client, f"{page}/acknowledge", {}, token_from=page).status_code == 302
    again = post_finnish(agent_client, f"{page}/dispute", {"comment": "Sittenkin väärin"}, token_from=page)
    assert again.status_code == 409
    assert "arviointiin on jo vastattu" in visible_text(again.get_data(as_text=True))


def test_a_dispute_of_4000_typed_characters_with_crlf_line_breaks_is_taken(
    agent_client: FlaskClient, session: Session, evaluation: Evaluation
) -> None:
    page = f"/feedback/{evaluation.id}"
    sent = post_form(agent_client, f"{page}/dispute", {"comment": TYPED_4000.replace("\n", "\r\n")}, token_from=page)
    assert sent.status_code == 302
    session.refresh(evaluation)
    assert evaluation.agent_comment == TYPED_4000


def disputed(session: Session, evaluation: Evaluation) -> None:
    agent = make_agent_user(session, "agent-typed")
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="Hinta oli oikein")
    session.commit()


def test_a_resolution_without_a_note_keeps_the_re_score_answers(
    client: FlaskClient, session: Session, supervisor: User, form: EvaluationForm, evaluation: Evaluation
) -> None:
    disputed(session, evaluation)
    login(client, supervisor)
    page = f"/evaluations/{evaluation.id}"
    greeting, needs, price = form.questions
    typed = {
        "note": " ",
        "rescore": "1",
        f"answers.{greeting.id}": "no",
        f"answers.{needs.id}": "2",
        f"answers.{price.id}": "yes",
    }
    refused = post_finnish(client, f"{page}/resolve", typed, token_from=page)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'name="note" rows="3" maxlength="4000" required aria-invalid="true"' in html
    assert 'name="rescore" value="1" checked' in html and "<details open>" in html
    for question, value in ((greeting, "no"), (needs, "2"), (price, "yes")):
        assert f'name="answers.{question.id}" value="{value}" checked' in html
    assert f'name="answers.{greeting.id}" value="yes" checked' not in html
    text = visible_text(html)
    assert "kerro, miten kiista ratkaistiin" in text and "say how" not in text
    session.refresh(evaluation)
    assert evaluation.dispute_state == "open" and evaluation.version == 1


def test_a_resolution_note_of_4000_typed_characters_with_crlf_line_breaks_is_taken(
    client: FlaskClient, session: Session, supervisor: User, evaluation: Evaluation
) -> None:
    disputed(session, evaluation)
    login(client, supervisor)
    page = f"/evaluations/{evaluation.id}"
    sent = post_form(client, f"{page}/resolve", {"note": TYPED_4000.replace("\n", "\r\n")}, token_from=page)
    assert sent.status_code == 302
    session.refresh(evaluation)
    assert evaluation.resolution_note == TYPED_4000


def test_an_overlong_resolution_note_is_kept_and_refused_in_finnish(
    client: FlaskClient, session: Session, supervisor: User, evaluation: Evaluation
) -> None:
    disputed(session, evaluation)
    login(client, supervisor)
    page = f"/evaluations/{evaluation.id}"
    note = "z" * 4001
    refused = post_finnish(client, f"{page}/resolve", {"note": note}, token_from=page)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f">{note}</textarea>" in html
    assert "enintään 4000 merkkiä" in visible_text(html)
