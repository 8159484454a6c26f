"""A clip's or a set's title is one line of visible text, as a clip's tag is; a clip's notes and a set's description are
text in lines. Found by an exploratory pass over odd text: a title of a zero-width space alone (U+200B) passed "give
the clip a title" and showed as an empty title in the trainers' library, one with a bidi override (U+202E) showed its
words turned round, and an escape, U+0001 or U+202E was stored inside a title, or in notes and descriptions. Such a
title is refused (`invisible_in_title`); notes and descriptions keep their line breaks and tabs, and refuse other
control characters and the bidi controls (`control_in_text`). What a clip or set says as stored stays editable."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import TrainingClip, TrainingSet, User
from recordings_service.runtime import Runtime
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, training_call
from tests.web.reader_language import ENGLISH, FINNISH, shown_after

INVISIBLE = {
    "zero-width space": "\u200b",
    "bidi override": "\u202eksir nruhc",
    "escape": "\x1b[31mChurn",
    "U+0001": "Ch\x01urn",
    "tab": "Churn\trisk",
    "line break": "Churn\nrisk",
    "joiner alone": "\u200d",
}
VISIBLE = ["Äidin soitto", "Соня звонит", "می\u200cخواهم", "👍🏽 hyvä avaus"]
CONTROLS = {
    "escape": "Listen\x1b[31m here",
    "U+0001": "Listen\x01 here",
    "bidi override": "Listen \u202eereh",
    "bidi isolate": "Listen \u2066here\u2069",
    "form feed": "Listen\x0chere",
}
LINES = "First listen for the greeting.\n\n\tThen the pause,\r\nand the close: 👍🏽 می\u200cخواهم"
SAID = {
    "title": {
        "fi": "otsikko on yksi rivi näkyvää tekstiä: poista siitä näkymätön merkki",
        "en": "a title is one line of visible text: remove the invisible character in it",
    },
    "lines": {
        "fi": "rivinvaihdot ja sarkaimet käyvät tässä, mutta poista ohjausmerkki",
        "en": "line breaks and tabs are fine here, but remove the control character",
    },
}


def refused(response: Any, field: str, said: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], body["field"]) == ("invalid_character", field)
    assert "U+" in body["message"] and said in body["message"]


def a_set(session: Session, runtime: Runtime, author: User, **stored: str) -> TrainingSet:
    made = sets.create_set(
        session, runtime.envelope, actor=actor_of(author), title="Openings", rules=TrainingRules()
    ).made
    for name, value in stored.items():
        setattr(made, name, value)  # as a release before the check stored it
    session.commit()
    return made


def stored(session: Session, model: Any, row_id: str, *names: str) -> tuple[Any, ...]:
    session.expire_all()
    row = session.get_one(model, row_id)
    return tuple(getattr(row, name) for name in names)


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_title_holding_an_invisible_character_is_refused_naming_it(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, typed: str
) -> None:
    client, token, author = api
    call = training_call(session, runtime.store, runtime.envelope)
    clip, training_set = clip_row(session, call, actor_of(author)), a_set(session, runtime, author)

    cut = {"recording_id": call.id, "start_s": 1, "end_s": 5, "title": typed}
    for response in (
        client.patch(f"/api/v1/training/clips/{clip.id}", json={"title": typed}, headers=token),
        client.post("/api/v1/training/clips", json=cut, headers=token),  # refused before its audio is cut
        client.patch(f"/api/v1/training/sets/{training_set.id}", json={"title": typed}, headers=token),
        client.post("/api/v1/training/sets", json={"title": typed}, headers=token),
    ):
        refused(response, "title", "a title is one line of visible text")
    assert stored(session, TrainingClip, clip.id, "title") == ("A clip",)
    assert stored(session, TrainingSet, training_set.id, "title") == ("Openings",)
    assert session.scalar(select(TrainingSet.id).where(TrainingSet.id != training_set.id)) is None


@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_notes_and_a_description_refuse_controls_other_than_line_breaks_and_tabs(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, typed: str
) -> None:
    client, token, author = api
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    training_set = a_set(session, runtime, author)
    said = "may hold line breaks and tabs, but no other control character"

    refused(client.patch(f"/api/v1/training/clips/{clip.id}", json={"notes": typed}, headers=token), "notes", said)
    for response in (
        client.patch(f"/api/v1/training/sets/{training_set.id}", json={"description": typed}, headers=token),
        client.post("/api/v1/training/sets", json={"title": "Closings", "description": typed}, headers=token),
    ):
        refused(response, "description", said)
    assert stored(session, TrainingClip, clip.id, "notes") == ("",)
    assert stored(session, TrainingSet, training_set.id, "description") == ("",)


@pytest.mark.parametrize("title", VISIBLE)
def test_titles_in_any_alphabet_and_text_in_lines_are_taken(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, title: str
) -> None:
    client, token, author = api
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    training_set = a_set(session, runtime, author)

    for path, text in ((f"clips/{clip.id}", "notes"), (f"sets/{training_set.id}", "description")):
        taken = client.patch(f"/api/v1/training/{path}", json={"title": title, text: LINES}, headers=token)
        assert taken.status_code == 200, taken.get_data(as_text=True)
    assert stored(session, TrainingClip, clip.id, "title", "notes") == (title, LINES.strip())
    assert stored(session, TrainingSet, training_set.id, "title", "description") == (title, LINES.strip())


def test_a_title_and_text_stored_before_the_check_stay_editable(
    api: tuple[FlaskClient, dict[str, str], User],
    trainer_client: FlaskClient,
    trainer: User,
    session: Session,
    runtime: Runtime,
) -> None:
    client, token, author = api
    before = {"title": "\u200b", "notes": "\x1b[31mListen"}
    call = training_call(session, runtime.store, runtime.envelope)
    clip, on_page = clip_row(session, call, actor_of(author)), clip_row(session, call, actor_of(trainer))
    for row in (clip, on_page):
        row.title, row.notes = before["title"], before["notes"]
    training_set = a_set(session, runtime, author, title="\u202eOpenings", description="Listen\x01")
    clip_path, set_path = f"/api/v1/training/clips/{clip.id}", f"/api/v1/training/sets/{training_set.id}"

    for path, body in (
        (clip_path, {"tags": ["opening"]}),
        (clip_path, {**before, "tags": ["opening"]}),
        (set_path, {"shared": True}),
        (set_path, {"title": "\u202eOpenings", "description": "Listen\x01", "shared": False}),
    ):
        kept = client.patch(path, json=body, headers=token)
        assert kept.status_code == 200, kept.get_data(as_text=True)
    assert stored(session, TrainingClip, clip.id, "title", "notes", "tags") == ("\u200b", before["notes"], ["opening"])
    assert stored(session, TrainingSet, training_set.id, "title", "description") == ("\u202eOpenings", "Listen\x01")
    # Changed, the title is checked: it is no longer what the clip says.
    refused(client.patch(clip_path, json={"title": "\u200b\u200b"}, headers=token), "title", "one line of visible")

    # The edit page sends the title and notes back as it shows them.
    edit = f"/training/clips/{on_page.id}/edit"
    form = {**before, "tags": "calm", "csrf_token": csrf_token(trainer_client, edit)}
    saved = trainer_client.post(edit, data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert stored(session, TrainingClip, on_page.id, "title", "tags") == ("\u200b", ["calm"])


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime, headers: dict[str, str], lang: str
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    clip = clip_row(session, call, actor_of(trainer))
    training_set = a_set(session, runtime, trainer)
    edit, page, set_page = f"/training/clips/{clip.id}/edit", f"/training/calls/{call.id}", "/training/sets/"
    set_id = training_set.id
    cut = {"title": "\u200b", "tags": "", "notes": "", "start_s": "1", "end_s": "5"}
    sent = [
        (edit, edit, {"title": "\u202eOpening", "tags": "", "notes": ""}, "title"),
        (f"{page}/clips", page, cut, "title"),
        (edit, edit, {"title": "Opening", "tags": "", "notes": "Listen\x1b here"}, "lines"),
        (set_page, set_page, {"title": "Closings\x01", "description": ""}, "title"),
        (f"{set_page}{set_id}/edit", f"{set_page}{set_id}", {"title": "Openings", "description": "\u202e"}, "lines"),
    ]
    for path, token_from, form, said in sent:
        response = trainer_client.post(
            path, data={**form, "csrf_token": csrf_token(trainer_client, token_from)}, headers=headers
        )
        assert response.status_code == 422, (path, response.status_code)
        shown = shown_after(trainer_client, response, headers=headers)
        assert SAID[said][lang] in shown and "NUL" not in shown, path
    assert stored(session, TrainingClip, clip.id, "title", "notes") == ("A clip", "")
    assert stored(session, TrainingSet, training_set.id, "title", "description") == ("Openings", "")


# A title or a tag holding the flag of Scotland, England or Wales (an emoji tag sequence: U+1F3F4, tag letters
# U+E0067…, U+E007F) is visible text, as other emoji are.
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize("field", ["title", "tags"])
def test_a_subdivision_flag_is_taken(
    api: tuple[FlaskClient, dict[str, str], User],
    session: Session,
    runtime: Runtime,
    field: str,
) -> None:
    client, token, author = api
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    text = f"Soittaja {SCOTLAND} Glasgow"
    body = {"title": text} if field == "title" else {"tags": [text]}
    taken = client.patch(f"/api/v1/training/clips/{clip.id}", json=body, headers=token)
    assert taken.status_code == 200, taken.get_data(as_text=True)
