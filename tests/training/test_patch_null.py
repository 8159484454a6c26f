"""A PATCH of a set or a clip with a field sent as null answered 200 and left the field as it was: a script that
cleared a set's description (or a clip's notes) with null was told it had, and the text stayed. Null is refused
(422 naming the field); a field left out still stays as it is."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_token
from tests.factories.training import bearer, clip_row, training_call

FIELDS = [("sets", name) for name in ("description", "title", "shared", "clip_ids")] + [
    ("clips", name) for name in ("notes", "title", "tags")
]


@pytest.mark.parametrize(("what", "field"), FIELDS)
def test_a_patch_sending_null_is_refused_naming_the_field(
    client: FlaskClient, session: Session, runtime: Runtime, what: str, field: str
) -> None:
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    author = actor_of(session.scalars(select(User).where(User.role == Role.TRAINER)).one())
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), author)
    clip.notes = "Good pace"
    session.commit()
    made = client.post(
        "/api/v1/training/sets", headers=trainer, json={"title": "Openings", "description": "For week one"}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    path = f"/api/v1/training/{what}/{made.get_json()['id'] if what == 'sets' else clip.id}"

    refused = client.patch(path, json={field: None}, headers=trainer)

    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert (refused.get_json()["error"], refused.get_json()["field"]) == ("null_value", field)
    kept = client.get(path, headers=trainer).get_json()
    assert kept["description" if what == "sets" else "notes"] == ("For week one" if what == "sets" else "Good pace")
