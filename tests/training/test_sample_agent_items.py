"""A sample's `agents` and `exclude_agents` name agents as trainers are shown them; a blank or overlong item names
no agent a call is stored with (found by exploratory testing: `"agents": [""]` drew an empty sample that said only
that no call matched, where an empty queue is refused naming its place). Each item is refused the same way now."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, training_call

SAMPLES = "/api/v1/training/samples"


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({"agents": [""]}, "agents.0"),
        ({"agents": ["agent-x", "   "]}, "agents.1"),
        ({"agents": ["a" * 101]}, "agents.0"),
        ({"exclude_agents": [""]}, "exclude_agents.0"),
    ],
)
def test_a_blank_or_overlong_agent_is_refused_naming_its_place(
    client: FlaskClient, session: Session, runtime: Runtime, items: dict[str, Any], field: str
) -> None:
    training_call(session, runtime.store, runtime.envelope)
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()

    answer = client.post(SAMPLES, json={"size": 5, **items}, headers=trainer)

    assert answer.status_code == 422, answer.json
    assert (answer.json["error"], answer.json["field"]) == ("invalid_length", field)


def test_an_agent_as_shown_still_selects_their_calls(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    training_call(session, runtime.store, runtime.envelope)
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()
    shown = client.post(SAMPLES, json={"size": 5}, headers=trainer).json["calls"][0]["agent"]

    answer = client.post(SAMPLES, json={"size": 5, "agents": [f" {shown} "]}, headers=trainer)

    assert answer.status_code == 200 and [call["agent"] for call in answer.json["calls"]] == [shown]
