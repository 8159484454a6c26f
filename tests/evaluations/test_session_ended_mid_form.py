"""A supervisor whose session ended while scoring: the panel's autosave is told so in JSON, and a submit leads, after
signing in again, back to the call's page. Found by exploratory testing of the scoring workflow: the autosave got a
redirect to the sign-in page, which the panel could not read ("The draft could not be saved:" and nothing more),
and a submit's sign-in led to the POST's own address as a GET, 405, the typed answers lost."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording


def test_an_ended_session_answers_the_autosave_in_json_and_a_submit_returns_to_the_call(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)
    form = published_form(session, actor_of(supervisor))
    page = f"/calls/{call.id}"
    token = csrf_token(client, page)
    supervisor.session_version += 1  # as a password reset or a role change ends every session of the account
    session.commit()
    answers = {"form_id": form.id, f"answers.{form.questions[0].id}": "yes", "csrf_token": token}

    autosave = client.post(f"{page}/evaluation/draft", data=answers, headers={"Accept": "application/json"})
    submit = client.post(f"{page}/evaluation", data=answers, headers={"Referer": f"http://localhost{page}"})

    assert autosave.status_code == 401 and autosave.get_json()["error"] == "unauthorized"
    assert submit.status_code == 302
    location = urlsplit(submit.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [page]
