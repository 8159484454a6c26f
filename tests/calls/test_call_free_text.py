"""What reviewers write on the call pages is held to the rule all free text is (`recordings_service.written_text`).
Found in a sweep of the free-text fields: a comment at a moment of the call took an escape, U+0001 or a bidi override
(U+202E) as typed, shown on the timeline to everyone who listens to the call, and the API's comment declared no
length (its 2,000 characters were the service's alone); a saved search's name, one line on the call list, took a
zero-width space alone, a bidi override or an escape. A comment keeps its line breaks and tabs; a name is one line of
visible text (422 `invalid_character` naming the field, in the reader's language on the pages). A name saved before
is saved again as it is."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls.review import MAX_ANNOTATION_CHARS
from recordings_service.models import Annotation, Recording, SavedSearch, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token, make_user
from tests.factories.free_text import SAID_LINE, SAID_LINES, refused_character
from tests.factories.reviews import make_transcribed_call
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

LINES = "Customer agrees here.\n\tAsk about the contract."
CONTROLS = {"escape": "Agrees\x1b[31m", "U+0001": "Agrees\x01", "bidi override": "Agrees \u202eereh"}
INVISIBLE = {"zero-width space": "\u200b", "bidi override": "Week \u202e49", "escape": "Week\x1b49"}


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope)


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR)


@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_comment_holding_a_control_character_is_refused_naming_text(
    app: Flask, session: Session, call: Recording, supervisor: User, typed: str
) -> None:
    client = client_of(app, supervisor)
    csrf = {"X-CSRFToken": csrf_token(client, f"/calls/{call.id}")}

    refused_character(
        client.post(f"/api/v1/recordings/{call.id}/annotations", json={"at_s": 1, "text": typed}, headers=csrf), "text"
    )
    assert session.scalars(select(Annotation.text)).all() == []


def test_a_comment_keeps_its_lines_and_its_length_is_declared_and_counted_as_kept(
    app: Flask, client: FlaskClient, session: Session, call: Recording, supervisor: User
) -> None:
    lead = client_of(app, supervisor)
    csrf = {"X-CSRFToken": csrf_token(lead, f"/calls/{call.id}")}
    path = f"/api/v1/recordings/{call.id}/annotations"

    assert lead.post(path, json={"at_s": 1, "text": LINES}, headers=csrf).status_code == 201
    padded = "c" * MAX_ANNOTATION_CHARS + "\n "
    assert lead.post(path, json={"at_s": 2, "text": padded}, headers=csrf).status_code == 201
    too_long = lead.post(path, json={"at_s": 3, "text": "c" * (MAX_ANNOTATION_CHARS + 1)}, headers=csrf)
    assert (too_long.status_code, too_long.get_json()["field"]) == (422, "text")
    assert set(session.scalars(select(Annotation.text))) == {LINES, "c" * MAX_ANNOTATION_CHARS}
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    (text,) = [s["properties"]["text"] for name, s in schemas.items() if name.startswith("AnnotationIn")]
    assert (text["minLength"], text["maxLength"]) == (1, MAX_ANNOTATION_CHARS)


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_saved_searchs_name_is_one_line_of_visible_text(
    app: Flask, session: Session, supervisor: User, typed: str
) -> None:
    client = client_of(app, supervisor)
    sent = post_as(client, "/calls/saved-searches", {"name": typed, "back": "queue=billing"}, token_from="/calls/")

    assert sent.status_code == 422
    assert SAID_LINE["fi"] in shown_after(client, sent)
    assert session.scalars(select(SavedSearch.name)).all() == []


def test_a_name_saved_before_is_saved_again_as_it_is(app: Flask, session: Session, supervisor: User) -> None:
    session.add(SavedSearch(owner_id=supervisor.id, name="Week \u202e49", query="queue=sales"))
    session.commit()
    client = client_of(app, supervisor)

    sent = post_as(
        client, "/calls/saved-searches", {"name": "Week \u202e49", "back": "queue=billing"}, token_from="/calls/"
    )

    assert sent.status_code == 302
    session.expire_all()
    assert session.scalars(select(SavedSearch.query)).one() == "queue=billing"


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    app: Flask, session: Session, call: Recording, supervisor: User, headers: dict[str, str], lang: str
) -> None:
    client = client_of(app, supervisor)
    page = f"/calls/{call.id}"

    sent = post_as(client, f"{page}/annotations", {"at_s": "1", "text": "Agrees\x1b"}, token_from=page, headers=headers)
    assert sent.status_code == 422
    assert SAID_LINES[lang] in shown_after(client, sent, headers=headers)
    named = post_as(
        client, "/calls/saved-searches", {"name": "\u200b", "back": ""}, token_from="/calls/", headers=headers
    )
    assert SAID_LINE[lang] in shown_after(client, named, headers=headers)
    assert session.scalars(select(Annotation.text)).all() == []
