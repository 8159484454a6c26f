"""A tag is one line of visible text, as a call's queue and agent are. Found by an exploratory pass over odd text: a
tag of a zero-width space alone, or one beginning with a bidi override (U+202E), was put on calls and showed as
nothing (or as its words turned round) on the call list, its filter and CSV exports, and an escape or U+0001 typed
into a tag was stored in it. Such a tag is refused as it is added, naming the field (`invisible_in_tag`: the generic
`invalid_character` page message is about NUL), in the reader's language; one stored before stays removable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls import tags
from recordings_service.db import new_id
from recordings_service.errors import Invalid
from recordings_service.models import CallTag, Recording
from recordings_service.models.account import Role, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.web.reader_language import ENGLISH, FINNISH, shown_after

DAY = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
INVISIBLE = {
    "zero-width space": "\u200b",
    "bidi override": "\u202eksir nruhc",
    "zero-width space after": "churn\u200b",
    "escape": "\x1b[31mchurn",
    "U+0001": "ch\x01urn",
    "joiner alone": "\u200d",
}
# Letters of any alphabet are taken, and the zero-width non-joiner between Persian letters ("I want").
VISIBLE = ["äiti", "Соня", "می\u200cخواهم", "Straße"]


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR)


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, audio=b"RIFF", started_at=DAY, queue="sales")


def post_tag(client: FlaskClient, action: str, call: Recording, tag: str, headers: dict[str, str]) -> object:
    data = {"csrf_token": csrf_token(client, "/calls/"), "recording_id": [call.id], "back": "queue=sales", "tag": tag}
    return client.post(f"/calls/{action}", data=data, headers=headers)


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_tag_holding_an_invisible_character_is_refused_naming_the_field(
    session: Session, supervisor: User, call: Recording, typed: str
) -> None:
    with pytest.raises(Invalid) as refused:
        tags.tag_calls(session, actor=actor_of(supervisor), recording_ids=[call.id], tag=typed)

    error = refused.value
    assert (error.field, error.code, error.why) == ("tag", "invalid_character", "invisible_in_tag")
    assert "U+" in error.message and "a tag is one line of visible text" in error.message
    assert tags.tags_of(session, [call.id]) == {}


@pytest.mark.parametrize("typed", VISIBLE)
def test_a_tag_in_any_alphabet_is_taken(session: Session, supervisor: User, call: Recording, typed: str) -> None:
    assert tags.tag_calls(session, actor=actor_of(supervisor), recording_ids=[call.id], tag=typed) == 1
    assert tags.tags_of(session, [call.id]) == {call.id: [typed]}


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        (FINNISH, "Tunniste on yksi rivi näkyvää tekstiä: poista siitä näkymätön merkki"),
        (ENGLISH, "A tag is one line of visible text: remove the invisible character in it"),
    ],
    ids=["fi", "en"],
)
def test_the_call_list_says_so_in_the_readers_language(
    client: FlaskClient, session: Session, supervisor: User, call: Recording, headers: dict[str, str], said: str
) -> None:
    login(client, supervisor)

    refused = post_tag(client, "tag", call, "\u200b", headers)

    shown = shown_after(client, refused, headers=headers)  # type: ignore[arg-type]
    assert said in shown
    assert "NUL" not in shown
    assert tags.tags_of(session, [call.id]) == {}


def test_a_tag_stored_before_the_check_stays_removable(
    client: FlaskClient, session: Session, supervisor: User, call: Recording, store: S3ObjectStore, envelope: Envelope
) -> None:
    other = make_recording(session, store, envelope, audio=b"RIFF", started_at=DAY, queue="sales")
    for recording, typed in ((call, "\x1b[31mchurn"), (other, "\u200b")):
        # As a release before the check stored them.
        session.add(CallTag(id=new_id(), recording_id=recording.id, tag=typed, key=typed, tagged_by=supervisor.id))
    session.flush()
    login(client, supervisor)

    removed = post_tag(client, "untag", call, "\x1b[31mCHURN", ENGLISH)

    assert "Removed the tag from 1 call." in shown_after(client, removed, headers=ENGLISH)  # type: ignore[arg-type]
    assert tags.untag_calls(session, actor=actor_of(supervisor), recording_ids=[other.id], tag="\u200b") == 1
    assert tags.tags_of(session, [call.id, other.id]) == {}
