"""A queue or agent typed with decomposed letters ("Sähkö" as a + U+0308, o + U+0308: a Mac's keyboard, text pasted
from a PDF) is the one the telephony system sends composed ("SÄHKÖ"): found by an exploratory pass over odd text, a
supervisor's filter, picker and evaluation plan for it found none of those calls, since the keys they are matched by
folded case alone. They are keyed in Unicode's canonical caseless form now, as tags are."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls import search
from recordings_service.evaluations import plans
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.factories.search import QA, found, random_day

COMPOSED = "SÄHKÖ"
DECOMPOSED = unicodedata.normalize("NFD", "Sähkö")
# Folding case leaves the small letter decomposed: "ΐ" folds to ι + U+0308 + U+0301, the capital "Ϊ" + U+0301 to
# "ϊ" + U+0301, which only composing again makes one key.
GREEK = ("\u0390", "\u03aa\u0301")


@pytest.mark.parametrize("field", ["queue", "agent_ref"])
@pytest.mark.parametrize(("stored", "typed"), [(COMPOSED, DECOMPOSED), (DECOMPOSED, COMPOSED), GREEK], ids=str)
def test_a_queue_or_agent_typed_in_the_other_unicode_form_finds_the_calls(
    session: Session, store: ObjectStore, envelope: Envelope, field: str, stored: str, typed: str
) -> None:
    day = random_day()
    call = make_recording(session, store, envelope, audio=b"RIFF", started_at=day, **{field: stored})
    make_recording(session, store, envelope, audio=b"RIFF", started_at=day, **{field: "sahko"})

    assert found(session, day, **{field: typed}) == [call.id]


@pytest.mark.parametrize("field", ["queue", "agent_ref"])
def test_the_call_list_the_search_api_and_the_picker_take_either_form(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, field: str
) -> None:
    day = random_day()
    calls = {
        make_recording(session, store, envelope, audio=b"RIFF", started_at=day + timedelta(minutes=n), **{field: name})
        for n, name in enumerate((COMPOSED, DECOMPOSED))
    }
    named = {call.id for call in calls}
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    window = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}
    page = client.get("/calls/", query_string={**window, field: DECOMPOSED}).get_data(as_text=True)
    assert all(f'href="/calls/{recording_id}"' in page for recording_id in named)
    window_api = {"started_from": day.isoformat(), "started_to": (day + timedelta(days=1)).isoformat()}
    for path in ("/api/v1/recordings", "/api/v1/search"):
        listed = client.get(path, query_string={**window_api, field: DECOMPOSED, "limit": 100}).get_json()
        ids = {item["id"] if path.endswith("recordings") else item["recording"]["id"] for item in listed["items"]}
        assert ids == named, path

    values = search.known_values(session, actor=QA, field=field)
    offered = [value for value in values if unicodedata.normalize("NFC", value.casefold()) == "sähkö"]
    assert len(offered) == 1  # one entry for both forms, finding both
    assert sorted(found(session, day, **{field: offered[0]})) == sorted(named)


def test_a_plan_for_a_queue_typed_decomposed_draws_the_calls_stored_composed(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    calls = {call_in_week(session, store, envelope, queue=COMPOSED, agent_ref="agent-a", day=day).id for day in (0, 1)}
    call_in_week(session, store, envelope, queue="Sahko", agent_ref="agent-a")
    plan = make_plan(session, actor_of(lead), supervisors=[lead], queue=DECOMPOSED, calls_per_agent=5)

    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert {item.recording_id for item in result.assignments} == calls


def test_a_plan_for_an_agent_typed_decomposed_draws_their_calls_stored_composed(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    theirs = call_in_week(session, store, envelope, queue="Sales", agent_ref="ÅSA")
    call_in_week(session, store, envelope, queue="Sales", agent_ref="ASA")
    typed = unicodedata.normalize("NFD", "åsa")
    plan = make_plan(session, actor_of(lead), supervisors=[lead], queue=None, agent_ref=typed)

    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert [(item.recording_id, item.agent_ref) for item in result.assignments] == [(theirs.id, "ÅSA")]
