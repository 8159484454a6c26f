"""A nomination's note, what a QA supervisor writes for trainers, is text in lines as a clip's notes are: found in a
sweep of the free-text fields, it took an escape, U+0001 or a bidi override (U+202E, which turns the text after it
round in the trainers' list) as typed, where a clip's notes refused them. It now refuses them the same way (422
`invalid_character` naming the note, in the reader's language on the call page) and keeps its line breaks and tabs;
and the API counts its length as the note is kept, without the whitespace around it (a note of the full 2,000
characters with a line break after it was refused)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Nomination
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training.nominations import MAX_NOTE
from tests.factories.accounts import make_user
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.factories.training import bearer, stereo_call
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

CONTROLS = {
    "escape": "Listen\x1b[31m here",
    "U+0001": "Listen\x01 here",
    "bidi override": "Listen \u202eereh",
    "bidi isolate": "Listen \u2066here\u2069",
}
LINES = "A calm opening.\n\n\tListen for the pause: 👍🏽 می\u200cخواهم"
SAID = {
    "fi": "rivinvaihdot ja sarkaimet käyvät tässä, mutta poista ohjausmerkki",
    "en": "line breaks and tabs are fine here, but remove the control character",
}


def notes(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Nomination.note)))


@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_note_holding_a_control_character_is_refused_naming_it(
    client: FlaskClient, session: Session, runtime: Runtime, typed: str
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    qa = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="training"))

    body = {"recording_id": call.id, "kind": "good_example", "note": typed}
    refused = client.post("/api/v1/training/nominations", headers=qa, json=body)

    assert refused.status_code == 422, refused.get_data(as_text=True)
    answer = refused.get_json()
    assert (answer["error"], answer["field"]) == ("invalid_character", "note")
    assert "U+" in answer["message"] and "may hold line breaks and tabs" in answer["message"]
    assert notes(session) == []


def test_a_note_keeps_its_lines_and_its_length_is_counted_as_kept(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    qa = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="training"))

    for note in (LINES, "n" * MAX_NOTE + "\n\n  "):
        taken = client.post(
            "/api/v1/training/nominations",
            headers=qa,
            json={"recording_id": call.id, "kind": "good_example", "note": note},
        )
        assert taken.status_code == 201, taken.get_data(as_text=True)
    assert sorted(notes(session)) == sorted([LINES, "n" * MAX_NOTE])


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_call_page_says_so_in_the_readers_language(
    app: Flask, session: Session, runtime: Runtime, headers: dict[str, str], lang: str
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    supervisor = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    page = f"/calls/{call.id}"

    form = {"kind": "good_example", "start_s": "", "end_s": "", "note": "Listen\x1b here"}
    refused = post_as(supervisor, f"{page}/nominations", form, token_from=page, headers=headers)

    assert refused.status_code == 422
    assert SAID[lang] in shown_after(supervisor, refused, headers=headers)
    assert notes(session) == []
