"""A part or a key given twice is refused, naming it. Of two audio or two metadata parts the ingest took the first and
dropped the other unseen; of a key given twice in the metadata (or in any JSON body of the API) the parser kept the
last: `{"queue": "sales", …, "queue": "billing"}` was stored as billing. A proxy, a log or an auditor reading the same
request could take it for another call than the one stored."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.calls.ingest import parse_metadata
from recordings_service.config import Settings
from recordings_service.errors import Invalid
from recordings_service.models import Recording, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.storage.spool import spool_dir
from tests.factories.recordings import MONO, STEREO, call_metadata, make_token


def recordings(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Recording)) or 0


def post(client: FlaskClient, token: str, data: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/recordings",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def test_two_metadata_parts_or_two_audio_parts_are_refused_and_nothing_is_kept(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    token = make_token(session)
    session.commit()
    first, second = json.dumps(call_metadata(queue="first")), json.dumps(call_metadata(queue="second"))
    spooled = set(spool_dir(settings).iterdir())  # the worker's data directory: what earlier tests left there

    metadata_twice = post(
        client, token, {"metadata": [first, second], "audio": (io.BytesIO(STEREO.read_bytes()), "a.wav")}
    )
    audio = [(io.BytesIO(STEREO.read_bytes()), "a.wav"), (io.BytesIO(MONO.read_bytes()), "b.wav")]
    audio_twice = post(client, token, {"metadata": first, "audio": audio})

    for response, part in ((metadata_twice, "metadata"), (audio_twice, "audio")):
        assert response.status_code == 422
        assert (response.get_json()["field"], response.get_json()["error"]) == (part, "duplicate_part")
    assert recordings(session) == 0
    assert set(spool_dir(settings).iterdir()) == spooled  # both audio parts' spools removed
    assert (
        post(client, token, {"metadata": first, "audio": (io.BytesIO(STEREO.read_bytes()), "a.wav")}).status_code == 201
    )


def test_a_metadata_key_given_twice_is_refused_naming_it(client: FlaskClient, session: Session) -> None:
    token = make_token(session)
    session.commit()
    text = json.dumps(call_metadata(queue="sales"))
    twice = text[:-1] + ', "queue": "billing"}'

    response = post(client, token, {"metadata": twice, "audio": (io.BytesIO(STEREO.read_bytes()), "a.wav")})

    assert response.status_code == 422
    body = response.get_json()
    assert (body["field"], body["error"]) == ("queue", "duplicate_key")
    assert body["errors"] == [{"field": "queue", "error": "duplicate_key", "message": body["message"]}]
    assert recordings(session) == 0


@pytest.mark.parametrize("raw", [b'{"a": {"b": 1, "b": 2}}', '{"source": "x", "source": "x"}'])
def test_the_inbox_sidecars_share_the_rule(raw: bytes | str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_metadata(raw)

    assert refused.value.code == "duplicate_key" and refused.value.field in {"b", "source"}


def test_a_json_body_with_a_key_given_twice_is_refused_naming_it(client: FlaskClient, session: Session) -> None:
    token = make_token(session, role=Role.COMPLIANCE, scope="compliance")
    session.commit()
    body = (
        '{"customer_ref": "CRM-TWICE", "kind": "access", "received_at": "2026-12-01T10:00:00+02:00", "kind": "erasure"}'
    )

    response = client.post(
        "/api/v1/subject-requests",
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert (response.get_json()["field"], response.get_json()["error"]) == ("kind", "duplicate_key")
    assert session.scalar(select(func.count()).select_from(SubjectRequest)) == 0
