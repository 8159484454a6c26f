"""Comments at moments of a call: added by reviewers, listed on the timeline for everyone who may listen."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.review import MAX_ANNOTATION_CHARS, add_annotation, list_comments
from recordings_service.errors import Forbidden, Invalid
from recordings_service.models import Annotation, AuditEvent, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.reviews import EN_DURATION_S, make_transcribed_call


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope)


def test_a_supervisor_comments_at_a_moment_and_everyone_who_listens_sees_it(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)
    page = f"/calls/{call.id}"
    response = post_form(
        client, f"{page}/annotations", {"at_s": "14.9", "text": "  Customer agrees here  "}, token_from=page
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calls/{call.id}?t=14.9#comment-added")
    note = session.scalars(select(Annotation).where(Annotation.recording_id == call.id)).one()
    assert (note.at_s, note.text, note.author_id) == (14.9, "Customer agrees here", supervisor.id)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == call.id, AuditEvent.action == "annotation.added")
    ).one()
    # The trail keeps ids and the moment, never the comment's text.
    assert event.details == {"annotation_id": note.id, "at_s": 14.9}

    login(client, make_user(session, role=Role.COMPLIANCE))
    html = client.get(page).get_data(as_text=True)
    assert '<button type="button" class="link" data-seek="14.9">0:14</button>' in html
    assert 'class="mark" data-seek="14.9"' in html  # its marker on the timeline under the waveform
    assert "Customer agrees here" in html and supervisor.username in html


def test_comments_list_in_time_order(session: Session, call: Recording) -> None:
    author = make_user(session, role=Role.QA_SUPERVISOR)
    actor = Actor(id=author.id, name=author.username, role=author.role)
    for at_s in (20.0, 2.5, 11.0):
        add_annotation(session, actor=actor, recording_id=call.id, at_s=at_s, text=f"at {at_s}")
    assert [c.at_s for c in list_comments(session, recording_id=call.id)] == [2.5, 11.0, 20.0]


@pytest.mark.parametrize(
    ("at_s", "text"),
    [
        ("-1", "before the call"),
        (str(EN_DURATION_S + 1), "after the call"),
        ("nan", "not a moment"),
        ("soon", "not a number"),
        ("3", "   "),
        ("3", "x" * (MAX_ANNOTATION_CHARS + 1)),
    ],
)
def test_bad_comments_are_refused_on_the_call_page_with_the_comment_kept(
    client: FlaskClient, session: Session, call: Recording, at_s: str, text: str
) -> None:
    """Found by exploratory testing: a refused comment landed on a bare error page, the text typed gone and its
    way back leading to the home page."""
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = f"/calls/{call.id}"
    response = post_form(client, f"{page}/annotations", {"at_s": at_s, "text": text}, token_from=page)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<textarea id="comment-text" name="text" rows="2" maxlength="2000" required' in html
    assert f">{escape(text)}</textarea>" in html and 'role="alert" id="comment-error"' in html
    field = "text" if at_s == "3" else "at_s"
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true" aria-describedby="comment-error"', html)
    assert session.scalars(select(Annotation).where(Annotation.recording_id == call.id)).all() == []


def test_restricted_calls_take_no_comments_and_jobs_cannot_comment(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, call: Recording
) -> None:
    restricted = make_transcribed_call(session, store, envelope, restricted=True)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = f"/calls/{call.id}"
    status = post_form(
        client, f"/calls/{restricted.id}/annotations", {"at_s": "1", "text": "x"}, token_from=page
    ).status_code
    assert status == 404
    assert session.scalars(select(Annotation).where(Annotation.recording_id == restricted.id)).all() == []
    with pytest.raises(Forbidden):
        add_annotation(
            session, actor=Actor(id=None, name="job", role="system"), recording_id=call.id, at_s=1.0, text="x"
        )
    with pytest.raises(Invalid):
        add_annotation(
            session, actor=Actor(id="x", name="x", role="qa_supervisor"), recording_id=call.id, at_s=1.0, text=""
        )
