"""Found by exploratory testing: a comment refused on the Finnish call page, at a moment past the end of the call or
of no text (or over 2000 characters), said so in the core's English ('must be between 0 and 23.6781 seconds',
'write 1 to 2000 characters'). It is now said in the reader's language, the comment kept as typed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.recordings import make_recording
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, post_as, post_finnish


@pytest.fixture
def call(client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    recording = make_recording(session, store, envelope)
    session.commit()
    return recording


def test_a_comment_past_the_end_of_the_call_is_refused_in_finnish(client: FlaskClient, call: Recording) -> None:
    page = f"/calls/{call.id}"
    refused = post_finnish(client, f"{page}/annotations", {"at_s": "99999", "text": "Hyvä avaus"}, token_from=page)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert ">Hyvä avaus</textarea>" in html
    text = visible_text(html)
    assert "anna puhelun kohta, 0–30,0 sekuntia" in text
    assert "must be between" not in text


@pytest.mark.parametrize("typed", [" ", "x" * 2001], ids=["blank", "too-long"])
def test_a_comment_of_no_text_or_too_much_is_refused_in_finnish(
    client: FlaskClient, call: Recording, typed: str
) -> None:
    page = f"/calls/{call.id}"
    refused = post_finnish(client, f"{page}/annotations", {"at_s": "3,5", "text": typed}, token_from=page)
    assert refused.status_code == 422
    text = visible_text(refused.get_data(as_text=True))
    assert "1–2000 merkkiä" in text
    assert "write 1 to" not in text


def test_in_english_the_same_refusal_reads_in_english(client: FlaskClient, call: Recording) -> None:
    page = f"/calls/{call.id}"
    data = {"at_s": "-1", "text": "Good opening"}
    refused = post_as(client, f"{page}/annotations", data, token_from=page, headers=ENGLISH)
    assert refused.status_code == 422
    assert "enter a moment of the call, 0 to 30.0 seconds" in visible_text(refused.get_data(as_text=True))
