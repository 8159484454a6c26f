"""What is written about a scored call and shown to its agent (an evaluation's comment and its questions' comments, the
agent's dispute, a resolution's note) is held to the rule all free text is (`recordings_service.written_text`).
Found in a sweep of the free-text fields: each took an escape, U+0001 or a bidi override (U+202E) as typed, shown on
the agent's feedback and in the dispute queue. The text keeps its line breaks and tabs; other controls are refused,
422 `invalid_character` naming the field, in the reader's language on the pages. A draft saved again and a re-score
send the stored comments back: one stored before these checks is taken as it is."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback
from recordings_service.models import Evaluation, EvaluationForm, Recording, User
from recordings_service.models.evaluation import DisputeState
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.evaluations import actor_of, evaluation_token, make_agent_user, released
from tests.factories.free_text import CONTROLS, SAID_LINES, refused_character
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

LINES = "Good opening.\n\n\tThe price at 0:40 was right."
VALUES = ["yes", "4", "yes"]


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-comments")


def scored(form: EvaluationForm, *, comment: str = "", question_comment: str = "") -> list[dict[str, str]]:
    first = {"question_id": form.questions[0].id, "value": VALUES[0], "comment": question_comment}
    rest = [{"question_id": q.id, "value": v} for q, v in zip(form.questions[1:], VALUES[1:], strict=True)]
    return [first, *rest]


def disputed(session: Session, supervisor: User, form: EvaluationForm, call: Recording) -> tuple[Evaluation, User]:
    evaluation = released(session, supervisor, form, call, VALUES)
    agent = make_agent_user(session, "agent-comments")
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="The price was right")
    session.commit()
    return evaluation, agent


@pytest.mark.parametrize("submit", [False, True], ids=["draft", "submitted"])
@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_an_evaluations_comments_refuse_a_control_character_naming_the_field(
    client: FlaskClient,
    session: Session,
    supervisor: User,
    form: EvaluationForm,
    call: Recording,
    typed: str,
    submit: bool,
) -> None:
    qa = evaluation_token(session, supervisor)
    body = {"recording_id": call.id, "form_id": form.id, "submit": submit}

    overall = client.post("/api/v1/evaluations", json={**body, "answers": scored(form), "comment": typed}, headers=qa)
    refused_character(overall, "comment")
    answers = scored(form, question_comment=typed)
    refused_character(
        client.post("/api/v1/evaluations", json={**body, "answers": answers}, headers=qa),
        f"comments.{form.questions[0].id}",
    )
    assert session.scalar(select(Evaluation.id)) is None


@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_dispute_and_its_resolution_refuse_a_control_character(
    client: FlaskClient, session: Session, supervisor: User, form: EvaluationForm, call: Recording, typed: str
) -> None:
    evaluation = released(session, supervisor, form, call, VALUES)
    agent = make_agent_user(session, "agent-comments")
    me, qa = evaluation_token(session, agent), evaluation_token(session, supervisor)
    session.commit()

    path = f"/api/v1/evaluations/{evaluation.id}"
    refused_character(client.post(f"{path}/dispute", json={"comment": typed}, headers=me), "comment")
    assert client.post(f"{path}/dispute", json={"comment": LINES}, headers=me).status_code == 200
    refused_character(client.post(f"{path}/resolve", json={"note": typed}, headers=qa), "note")
    session.expire_all()
    stored = session.get_one(Evaluation, evaluation.id)
    assert (stored.agent_comment, stored.dispute_state) == (LINES.strip(), DisputeState.OPEN)


def test_comments_stored_before_are_taken_back_as_stored(
    client: FlaskClient, session: Session, supervisor: User, form: EvaluationForm, call: Recording
) -> None:
    qa = evaluation_token(session, supervisor)
    body = {"recording_id": call.id, "form_id": form.id, "answers": scored(form), "submit": False}
    made = client.post("/api/v1/evaluations", json=body, headers=qa)
    assert made.status_code == 201, made.get_json()
    draft = session.get_one(Evaluation, made.get_json()["id"])
    draft.comment = "Old\x1b note"
    draft.answers[0].comment = "Old \u202eeton"
    session.commit()

    again = {"answers": scored(form, question_comment="Old \u202eeton"), "comment": "Old\x1b note", "submit": True}
    submitted = client.put(f"/api/v1/evaluations/{draft.id}", json=again, headers=qa)
    assert submitted.status_code == 200, submitted.get_json()
    changed = client.put(f"/api/v1/evaluations/{draft.id}", json={**again, "comment": "New\x1b"}, headers=qa)
    refused_character(changed, "comment")


def test_a_rescore_sends_back_a_comment_stored_before(
    client: FlaskClient, session: Session, supervisor: User, form: EvaluationForm, call: Recording
) -> None:
    evaluation, _ = disputed(session, supervisor, form, call)
    evaluation.comment = "Old\x01 note"
    session.commit()
    qa = evaluation_token(session, supervisor)

    rescore = {"note": "Re-scored", "answers": scored(form)}
    resolved = client.post(f"/api/v1/evaluations/{evaluation.id}/resolve", json=rescore, headers=qa)

    assert resolved.status_code == 200, resolved.get_json()
    session.expire_all()
    assert session.get_one(Evaluation, evaluation.id).version == 2


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    app: Flask,
    session: Session,
    supervisor: User,
    form: EvaluationForm,
    call: Recording,
    store: ObjectStore,
    envelope: Envelope,
    headers: dict[str, str],
    lang: str,
) -> None:
    evaluation, agent = disputed(session, supervisor, form, call)
    other = make_recording(session, store, envelope, agent_ref="agent-comments")
    session.commit()
    lead = client_of(app, supervisor)

    page = f"/calls/{other.id}"
    answers = {f"answers.{q.id}": v for q, v in zip(form.questions, VALUES, strict=True)}
    scored_page = post_as(
        lead,
        f"{page}/evaluation",
        {"form_id": form.id, **answers, "comment": "Good\x1b"},
        token_from=page,
        headers=headers,
    )
    assert SAID_LINES[lang] in shown_after(lead, scored_page, headers=headers)
    page = f"/evaluations/{evaluation.id}"
    resolved = post_as(lead, f"{page}/resolve", {"note": "Settled\x01"}, token_from=page, headers=headers)
    assert SAID_LINES[lang] in shown_after(lead, resolved, headers=headers)

    answered = released(
        session, supervisor, form, make_recording(session, store, envelope, agent_ref="agent-comments"), VALUES
    )
    session.commit()
    own = client_of(app, agent)
    page = f"/feedback/{answered.id}"
    sent = post_as(own, f"{page}/dispute", {"comment": "Wrong \u202eecirp"}, token_from=page, headers=headers)
    assert SAID_LINES[lang] in shown_after(own, sent, headers=headers)
    session.expire_all()
    assert session.get_one(Evaluation, answered.id).agent_response is None
    assert session.get_one(Evaluation, evaluation.id).dispute_state == DisputeState.OPEN
    # The refused submit is kept as a draft (evaluation_panel.keep_as_draft), without the comment it refused.
    kept = session.scalars(select(Evaluation).where(Evaluation.recording_id == other.id)).one()
    assert (kept.state, kept.comment) == ("draft", "")
