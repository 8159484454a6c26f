"""`POST /api/v1/training/clips` takes a span by times (`start_s`, `end_s`) or by transcript segments (`first_segment`,
`last_segment`). Half of a second span was ignored (times and a `first_segment`: the clip cut by the times, 201), and
a span refused for a missing end was refused naming `body`. Each refusal now names the field."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import TrainingClip
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, stereo_call


@pytest.mark.parametrize(
    ("span", "field", "code"),
    [
        ({"start_s": 1.0, "end_s": 5.0, "first_segment": 2}, "first_segment", "conflicting_span"),
        ({"start_s": 1.0, "end_s": 5.0, "last_segment": 0}, "last_segment", "conflicting_span"),
        ({"start_s": 1.0}, "end_s", "missing"),
        ({"end_s": 5.0}, "start_s", "missing"),
        ({"first_segment": 0}, "last_segment", "missing"),
        ({"last_segment": 1}, "first_segment", "missing"),
        ({}, "start_s", "missing"),
    ],
)
def test_a_span_given_in_part_or_twice_is_refused_naming_the_field(
    client: FlaskClient, session: Session, runtime: Runtime, span: dict[str, Any], field: str, code: str
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    response = client.post(
        "/api/v1/training/clips", headers=trainer, json={"recording_id": call.id, "title": "Hi", **span}
    )

    assert response.status_code == 422
    assert (response.get_json()["field"], response.get_json()["error"]) == (field, code)
    assert session.scalar(select(func.count()).select_from(TrainingClip)) == 0
