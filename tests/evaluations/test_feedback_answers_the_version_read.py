"""Found by exploratory testing: an agent who opened their feedback, while the evaluator re-scored it, then
acknowledged (or disputed) the version they had never read: a re-score clears the answer to the version before
it, and the answer went to whatever version was latest. The page and the API now say which version was read, and
an answer to an older one is refused (409 `conflict`) with nothing answered."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import scoring
from recordings_service.models import Evaluation, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, answers, evaluation_token, make_agent_user, published_form, released
from tests.factories.recordings import make_recording
from tests.web.reader_language import FINNISH, post_as, shown_after


def _released_then_rescored_after_reading(
    session: Session, store: ObjectStore, envelope: Envelope, read: Callable[[User, Evaluation], None]
) -> tuple[User, Evaluation]:
    """An evaluation released to its agent, who reads it (`read()`), and which its evaluator then re-scores."""
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent = make_agent_user(session, "agent-reread")
    form = published_form(session, actor_of(supervisor))
    call = make_recording(session, store, envelope, agent_ref="agent-reread")
    evaluation = released(session, supervisor, form, call, ["yes", "5", "no"])
    session.commit()
    read(agent, evaluation)
    scoring.update_evaluation(
        session,
        actor=actor_of(supervisor),
        evaluation_id=evaluation.id,
        answers=answers(form, ["no", "1", "no"]),
        comment="",
        submit=True,
    )
    session.commit()
    return agent, evaluation


def _opened_in_finnish_then_rescored(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> tuple[Evaluation, str]:
    """The evaluation and its feedback page as its agent opened it, in Finnish, before the evaluator re-scored it."""
    pages: dict[str, str] = {}

    def read(agent: User, evaluation: Evaluation) -> None:
        login(client, agent)
        pages["read"] = client.get(f"/feedback/{evaluation.id}", headers=FINNISH).get_data(as_text=True)

    _, evaluation = _released_then_rescored_after_reading(session, store, envelope, read)
    return evaluation, pages["read"]


@pytest.mark.parametrize("answer", ["acknowledge", "dispute"])
def test_the_api_refuses_an_answer_to_a_version_rescored_since_it_was_read(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, answer: str
) -> None:
    seen: dict[str, object] = {}

    def read(agent: User, evaluation: Evaluation) -> None:
        seen["headers"] = evaluation_token(session, agent)
        session.commit()
        seen["body"] = client.get(f"/api/v1/feedback/{evaluation.id}", headers=seen["headers"]).get_json()

    _, evaluation = _released_then_rescored_after_reading(session, store, envelope, read)
    headers, read_body = seen["headers"], seen["body"]
    assert isinstance(headers, dict) and isinstance(read_body, dict)
    path = f"/api/v1/evaluations/{evaluation.id}/{answer}"

    stale = client.post(path, json={"comment": "About the price", "version": read_body["version"]}, headers=headers)

    assert stale.status_code == 409, stale.get_json()
    assert stale.get_json()["error"] == "conflict"
    assert "re-scored this evaluation since you read version 1: read version 2" in stale.get_json()["message"]
    now = client.get(f"/api/v1/feedback/{evaluation.id}", headers=headers).get_json()
    assert now["version"] == read_body["version"] + 1
    assert now["agent_response"] is None and now["dispute_state"] is None
    fresh = client.post(path, json={"comment": "About the price", "version": now["version"]}, headers=headers)
    assert fresh.status_code == 200, fresh.get_json()
    assert fresh.get_json()["agent_response"] == ("acknowledged" if answer == "acknowledge" else "disputed")


def test_the_feedback_page_refuses_an_answer_to_a_version_rescored_since_it_was_opened_in_the_readers_language(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    evaluation, opened = _opened_in_finnish_then_rescored(client, session, store, envelope)
    page = f"/feedback/{evaluation.id}"
    read_version = re.findall(r'name="version" value="(\d+)"', opened)
    assert read_version == ["1", "1"]  # both forms say which version the agent read

    refused = post_as(client, f"{page}/acknowledge", {"comment": "Kiitos", "version": read_version[0]}, token_from=page)

    assert refused.status_code == 409
    shown = shown_after(client, refused)
    assert "arvioija on muuttanut tätä arviointia sen jälkeen, kun avasit sen" in shown, shown
    assert "Kiitos" in refused.get_data(as_text=True)  # the comment comes back as typed
    assert re.findall(r'name="version" value="(\d+)"', refused.get_data(as_text=True)) == ["2", "2"]
    session.expire_all()
    assert session.get_one(Evaluation, evaluation.id).agent_response is None


def test_a_blank_dispute_of_a_rescored_version_is_refused_for_the_rescore_first(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by review: the comment was checked first, and its page came back with the new version in the form,
    saying nothing of the re-score: the next send disputed a version the agent had not read."""
    evaluation, opened = _opened_in_finnish_then_rescored(client, session, store, envelope)
    page = f"/feedback/{evaluation.id}"

    read_version = re.findall(r'name="version" value="(\d+)"', opened)[0]

    refused = post_as(client, f"{page}/dispute", {"comment": "   ", "version": read_version}, token_from=page)

    assert refused.status_code == 409
    assert "arvioija on muuttanut tätä arviointia sen jälkeen, kun avasit sen" in shown_after(client, refused)
