"""Found by exploratory testing: once the organiser closed a session, a participant who never submitted read
"Your part: scored" on /calibration/, and "not yet submitted" beside their name on the session page (as though
they still could). They now read "not scored" in both places; a participant who did submit still reads
"scored" and "submitted"."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.models import CalibrationSession, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import shown_after_post


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return {name: make_user(session, username=name) for name in ("olga", "anna", "bert")}


@pytest.fixture
def closed(session: Session, store: ObjectStore, envelope: Envelope, people: dict[str, User]) -> CalibrationSession:
    organiser = actor_of(people["olga"])
    form = published_form(session, organiser)
    call = make_recording(session, store, envelope, agent_ref="agent-closed")
    created = calibration.create_calibration(
        session,
        actor=organiser,
        recording_id=call.id,
        form_id=form.id,
        participant_ids=[people["anna"].id, people["bert"].id],
        title="Week 50",
    )
    calibration.submit_scores(
        session, actor=actor_of(people["anna"]), calibration_id=created.id, answers=answers(form, ["yes", "3", "yes"])
    )
    calibration.close_calibration(session, actor=organiser, calibration_id=created.id)
    session.commit()
    return created


def your_part(app: Flask, user: User) -> str:
    """The "Your part" cell of the one session listed to `user`."""
    text = " ".join(visible_text(client_of(app, user).get("/calibration/").get_data(as_text=True)).split())
    return text.split("Week 50", 1)[1].split("closed", 1)[1].strip()


def test_a_participant_who_never_submitted_is_not_said_to_have_scored(
    app: Flask, people: dict[str, User], closed: CalibrationSession
) -> None:
    assert your_part(app, people["bert"]) == "not scored"
    assert your_part(app, people["anna"]) == "scored"
    assert your_part(app, people["olga"]) == "organiser"


def test_the_session_page_does_not_say_a_closed_session_still_waits_for_them(
    app: Flask, people: dict[str, User], closed: CalibrationSession
) -> None:
    page = client_of(app, people["bert"]).get(f"/calibration/{closed.id}").get_data(as_text=True)
    text = " ".join(visible_text(page).split())
    assert "anna: submitted" in text and "bert: not scored" in text
    assert "not yet submitted" not in text


def test_closing_again_or_scoring_a_closed_session_goes_back_to_it_saying_why(
    app: Flask, people: dict[str, User], closed: CalibrationSession
) -> None:
    """Found by exploratory testing: a second close (another tab, a double click) or scores sent after the organiser
    closed the session answered a bare 409 error page in English; now the session page says why, in Finnish too."""
    path = f"/calibration/{closed.id}"
    said = shown_after_post(client_of(app, people["olga"]), f"{path}/close", {}, token_from=path)
    assert "tämä kalibrointi-istunto on suljettu" in said.lower()
    said = shown_after_post(client_of(app, people["bert"]), f"{path}/scores", {}, token_from=path)
    assert "tämä kalibrointi-istunto on suljettu" in said.lower()
