"""A clip's tag is one line of visible text, as a tag on calls is. Found by an exploratory pass over odd text: a tag of
a zero-width space alone, or one beginning with a bidi override (U+202E), was put on a clip (201, 200, the pages too)
and showed as nothing (or as its words turned round) in the trainers' library, on a set's player and in exports; an
escape, U+0001, a tab or a line break typed into one was stored as typed. Such a tag is refused as it is added, naming
the field (`invisible_in_tag`), in the reader's language; one the clip had before stays, and can be taken off. And a
tag is one tag in any case and either Unicode form: "Äiti" typed composed and decomposed were two tags on one clip."""

from __future__ import annotations

import unicodedata

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import TrainingClip, User
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, training_call
from tests.web.reader_language import ENGLISH, FINNISH, shown_after

INVISIBLE = {
    "zero-width space": "\u200b",
    "bidi override": "\u202eksir nruhc",
    "zero-width space after": "churn\u200b",
    "escape": "\x1b[31mchurn",
    "U+0001": "ch\x01urn",
    "tab": "churn\trisk",
    "line break": "churn\r\nrisk",
    "joiner alone": "\u200d",
}
# Letters of any alphabet, emoji, and the zero-width non-joiner between Persian letters ("I want") are taken.
VISIBLE = ["äiti", "Соня", "می\u200cخواهم", "Straße", "👍🏽 hyvä"]
STORED_BEFORE = ["\u200b", "\x1b[31mchurn", "opening"]
SAID = {
    "fi": "jokainen tunniste on yksi rivi näkyvää tekstiä: poista siitä näkymätön merkki",
    "en": "each tag is one line of visible text: remove the invisible character in it",
}


def stored_tags(session: Session, clip_id: str) -> list[str]:
    session.expire_all()
    return session.get_one(TrainingClip, clip_id).tags


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_tag_holding_an_invisible_character_is_refused_naming_the_field(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, typed: str
) -> None:
    client, token, author = api
    call = training_call(session, runtime.store, runtime.envelope)
    clip = clip_row(session, call, actor_of(author))
    session.commit()

    cut = {"recording_id": call.id, "start_s": 1, "end_s": 5, "title": "Opening", "tags": ["opening", typed]}
    for refused in (
        client.patch(f"/api/v1/training/clips/{clip.id}", json={"tags": ["opening", typed]}, headers=token),
        client.post("/api/v1/training/clips", json=cut, headers=token),  # refused before its audio is cut
    ):
        assert refused.status_code == 422, refused.get_data(as_text=True)
        body = refused.get_json()
        assert (body["error"], body["field"]) == ("invalid_character", "tags")
        assert "U+" in body["message"] and "a tag is one line of visible text" in body["message"]
    assert stored_tags(session, clip.id) == []
    assert session.scalar(select(TrainingClip.id).where(TrainingClip.id != clip.id)) is None


@pytest.mark.parametrize("typed", VISIBLE)
def test_a_tag_in_any_alphabet_is_taken(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, typed: str
) -> None:
    client, token, author = api
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    session.commit()

    taken = client.patch(f"/api/v1/training/clips/{clip.id}", json={"tags": [typed]}, headers=token)

    assert taken.status_code == 200, taken.get_data(as_text=True)
    assert taken.get_json()["tags"] == [typed] and stored_tags(session, clip.id) == [typed]


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime, headers: dict[str, str], lang: str
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    clip = clip_row(session, call, actor_of(trainer))
    session.commit()
    edit, page = f"/training/clips/{clip.id}/edit", f"/training/calls/{call.id}"
    form = {"title": "Opening", "tags": "opening, \u200b", "notes": ""}

    for path, token_from, sent in ((edit, edit, form), (f"{page}/clips", page, {**form, "start_s": "1", "end_s": "5"})):
        refused = trainer_client.post(
            path, data={**sent, "csrf_token": csrf_token(trainer_client, token_from)}, headers=headers
        )
        assert refused.status_code == 422
        shown = shown_after(trainer_client, refused, headers=headers)
        assert SAID[lang] in shown and "NUL" not in shown
    assert stored_tags(session, clip.id) == []


def test_a_tag_the_clip_had_before_the_check_stays_and_can_be_taken_off(
    api: tuple[FlaskClient, dict[str, str], User],
    trainer_client: FlaskClient,
    trainer: User,
    session: Session,
    runtime: Runtime,
) -> None:
    client, token, author = api
    call = training_call(session, runtime.store, runtime.envelope)
    clip, on_page = clip_row(session, call, actor_of(author)), clip_row(session, call, actor_of(trainer))
    clip.tags, on_page.tags = list(STORED_BEFORE), list(STORED_BEFORE)  # as a release before the check stored them
    session.commit()
    path = f"/api/v1/training/clips/{clip.id}"

    retitled = client.patch(path, json={"title": "Warm opening"}, headers=token)
    assert retitled.status_code == 200, retitled.get_data(as_text=True)
    assert stored_tags(session, clip.id) == STORED_BEFORE
    removed = client.patch(path, json={"tags": STORED_BEFORE[1:]}, headers=token)
    assert removed.status_code == 200, removed.get_data(as_text=True)
    assert stored_tags(session, clip.id) == STORED_BEFORE[1:]

    # The edit page sends the tags back as it shows them; one taken off the list goes.
    edit = f"/training/clips/{on_page.id}/edit"
    for tags in (", ".join(STORED_BEFORE), ", ".join(STORED_BEFORE[:1])):
        form = {"title": "Warm opening", "tags": tags, "notes": "", "csrf_token": csrf_token(trainer_client, edit)}
        saved = trainer_client.post(edit, data=form)
        assert saved.status_code == 302, saved.get_data(as_text=True)
    assert stored_tags(session, on_page.id) == STORED_BEFORE[:1]


@pytest.mark.parametrize(
    "typed",
    [
        ["Äiti", unicodedata.normalize("NFD", "äiti"), "ÄITI"],
        # Folding case leaves the small letter decomposed: only composing again makes the two one key.
        ["\u0390", "\u03aa\u0301"],
    ],
    ids=["latin", "greek"],
)
def test_a_tag_in_either_case_and_unicode_form_is_one_tag_kept_as_first_typed(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, typed: list[str]
) -> None:
    client, token, author = api
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    session.commit()

    taken = client.patch(f"/api/v1/training/clips/{clip.id}", json={"tags": typed}, headers=token)

    assert taken.status_code == 200, taken.get_data(as_text=True)
    assert stored_tags(session, clip.id) == typed[:1]
