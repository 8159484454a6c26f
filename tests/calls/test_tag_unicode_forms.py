"""A tag typed with decomposed letters ("äiti" as a + U+0308: a Mac's keyboard, text pasted from a PDF) is the tag
typed with composed ones: found by an exploratory pass over odd text, the two were two tags, each call list filter
finding one spelling's calls, and both could be put on one call. Tags are now keyed in Unicode's canonical caseless
form, kept as typed."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls import tags
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording

DAY = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
COMPOSED = "Äiti soitti"
DECOMPOSED = unicodedata.normalize("NFD", "äiti SOITTI")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (DECOMPOSED, COMPOSED),
        # Folding case leaves the small letter decomposed: "ΐ" folds to ι + U+0308 + U+0301, the capital "Ϊ" + U+0301
        # to "ϊ" + U+0301, which only composing again makes one key.
        ("\u0390", "\u03aa\u0301"),
    ],
    ids=["latin", "greek"],
)
def test_one_tag_in_either_unicode_form_is_one_tag(
    session: Session, store: S3ObjectStore, envelope: Envelope, first: str, second: str
) -> None:
    supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    calls = [make_recording(session, store, envelope, audio=b"RIFF", started_at=DAY) for _ in range(2)]
    ids = [call.id for call in calls]

    assert tags.tag_calls(session, actor=supervisor, recording_ids=ids[:1], tag=first) == 1
    assert tags.tag_calls(session, actor=supervisor, recording_ids=ids, tag=second) == 1  # the first call has it

    assert tags.tags_of(session, ids) == {ids[0]: [first], ids[1]: [second]}  # each as typed
    for typed in (first, second):
        page = search_calls(session, actor=supervisor, filters=SearchFilters(tag=typed), limit=10)
        assert sorted(item.recording.id for item in page.items) == sorted(ids)
    assert tags.untag_calls(session, actor=supervisor, recording_ids=ids, tag=first) == 2


def test_the_call_lists_filter_finds_both_spellings(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    user = make_user(session, role=Role.QA_SUPERVISOR)
    decomposed, composed = (make_recording(session, store, envelope, audio=b"RIFF", started_at=DAY) for _ in "ab")
    tags.tag_calls(session, actor=actor_of(user), recording_ids=[decomposed.id], tag=DECOMPOSED)
    tags.tag_calls(session, actor=actor_of(user), recording_ids=[composed.id], tag=COMPOSED)
    login(client, user)

    window = {"date_from": DAY.date().isoformat(), "date_to": DAY.date().isoformat()}
    page = client.get("/calls/", query_string={**window, "tag": "äiti soitti"}).get_data(as_text=True)

    assert f'href="/calls/{decomposed.id}"' in page and f'href="/calls/{composed.id}"' in page
