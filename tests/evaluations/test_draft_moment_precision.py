"""A moment stamped as evidence is kept to the millisecond; a draft reopened in the panel showed it to six
significant digits (found by review: 1234.567 s, twenty minutes into a call, came back as 1234.57, and saving the
draft again moved the evidence)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording


def test_a_draft_reopens_with_its_moments_to_the_millisecond(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope, duration_s=3600.0)
    form = published_form(session, actor_of(supervisor))
    greeting, needs, _price = form.questions
    login(client, supervisor)
    path = f"/calls/{call.id}"
    stamped = {f"at.{greeting.id}": "1234.567", f"at.{needs.id}": "2.5"}

    saved = post_form(client, f"{path}/evaluation/draft", {"form_id": form.id, **stamped}, token_from=path)

    assert saved.status_code == 200, saved.get_data(as_text=True)
    page = client.get(path).get_data(as_text=True)
    assert f'name="at.{greeting.id}" type="number"' in page and 'value="1234.567"' in page
    assert 'value="2.5"' in page
