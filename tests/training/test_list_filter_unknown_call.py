"""A list filtered by a call the trainer may not see, or that does not exist: the nominations answered 404 while
the clips answered 200 with an empty list, as if the call had no clips. Both are 404 now, as any read naming one
call is (the hidden call's refusal audited), and a call that is there keeps its 200."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import new_id
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, training_call

LISTS = ("/api/v1/training/clips", "/api/v1/training/nominations")


@pytest.mark.parametrize("path", LISTS, ids=["clips", "nominations"])
def test_a_list_of_an_unknown_or_hidden_calls_items_is_not_found(
    client: FlaskClient, session: Session, runtime: Runtime, path: str
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    hidden = training_call(session, runtime.store, runtime.envelope, restricted=True)
    headers = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()

    unknown = client.get(path, query_string={"recording_id": new_id()}, headers=headers)
    refused = client.get(path, query_string={"recording_id": hidden.id}, headers=headers)
    known = client.get(path, query_string={"recording_id": call.id}, headers=headers)

    assert [unknown.status_code, refused.status_code] == [404, 404]
    assert unknown.get_json()["error"] == refused.get_json()["error"] == "not_found"
    assert known.status_code == 200 and known.get_json()["items"] == []
    denied = select(AuditEvent).where(AuditEvent.action == "recording.access_denied", AuditEvent.object_id == hidden.id)
    assert session.scalars(denied).first() is not None
