"""A HEAD of the JSON API's reads (a link checker, a download manager's probe, a monitor) sends no body, yet Flask
answers it through the GET view, which recorded the read all the same: a transcript viewed, a set and its clips
opened, a search, an export downloaded. It now records nothing, for every read of the API alike (one rule, in the
request's session), and answers with the GET's status and headers; a GET is audited as ever, and a refused HEAD
still leaves its refusal."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Recording, TrainingExport
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.recordings import FOR_TRAINING_TOO, make_token
from tests.factories.reviews import make_transcribed_call
from tests.factories.training import bearer, stereo_call, training_call

# The headers a HEAD answers as its GET does (RFC 9110 §9.3.2); a streamed body's length is the one it names.
SAME_HEADERS = ("Content-Type", "Content-Length", "Cache-Control", "ETag", "Accept-Ranges", "Content-Disposition")


def recorded(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def head_records_nothing_and_get_does(client: FlaskClient, session: Session, path: str, token: str) -> None:
    before = recorded(session)
    head = client.head(path, headers=bearer(token))
    after_head = recorded(session)
    get = client.get(path, headers=bearer(token))
    get.get_data()  # a streamed answer is audited once it has gone out
    after_get = recorded(session)

    assert head.data == b"", path
    assert (head.status_code, after_head - before) == (get.status_code, 0), path
    assert get.status_code in (200, 206), (path, get.get_data(as_text=True)[:300])
    assert after_get > after_head, f"{path}: the GET is an audited read"
    shown = {name: head.headers.get(name) for name in SAME_HEADERS}
    assert shown == {name: get.headers.get(name) for name in SAME_HEADERS}, path


@pytest.fixture
def call(session: Session, runtime: Runtime) -> Recording:
    return make_transcribed_call(session, runtime.store, runtime.envelope, redacted=True, purposes=FOR_TRAINING_TOO)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/recordings",
        "/api/v1/recordings/{id}",
        "/api/v1/recordings/{id}/transcript",
        "/api/v1/recordings/{id}/transcript?format=vtt",
        "/api/v1/search?q=help",
        "/api/v1/recordings/{id}/audio",
    ],
)
def test_a_head_of_a_supervisors_read_records_nothing(
    client: FlaskClient, session: Session, call: Recording, path: str
) -> None:
    token = make_token(session, role=Role.QA_SUPERVISOR, scope="read")
    head_records_nothing_and_get_does(client, session, path.format(id=call.id), token)


def test_a_head_of_the_redacted_audio_records_nothing(client: FlaskClient, session: Session, call: Recording) -> None:
    token = make_token(session, role=Role.TRAINER, scope="read")
    head_records_nothing_and_get_does(client, session, f"/api/v1/recordings/{call.id}/audio/redacted", token)


def test_a_head_of_a_trainers_reads_records_nothing(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    token = make_token(session, role=Role.TRAINER, scope="training")

    def made(path: str, **body: object) -> str:
        answer = client.post(path, headers=bearer(token), json=body)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return str(answer.get_json()["id"])

    clip = made("/api/v1/training/clips", recording_id=call.id, start_s=1.0, end_s=4.0, title="Greeting")
    set_id = made("/api/v1/training/sets", title="Openings", clip_ids=[clip])
    export_id = made(f"/api/v1/training/sets/{set_id}/exports")

    for path in (
        f"/api/v1/training/calls/{call.id}",
        f"/api/v1/training/sets/{set_id}",
        f"/api/v1/training/clips/{clip}",
        f"/api/v1/training/clips/{clip}/audio?format=mp3",
        f"/api/v1/training/exports/{export_id}/download",
    ):
        head_records_nothing_and_get_does(client, session, path, token)
    export = session.get_one(TrainingExport, export_id)
    session.refresh(export)
    assert export.downloads == 1  # the GET's: a HEAD downloads nothing, so counts none


def test_a_refused_head_still_leaves_its_refusal(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    """Not read, yet asked for: the refusal is the trail's as for a GET (written in its own transaction)."""
    call = training_call(session, runtime.store, runtime.envelope)
    session.commit()
    token = make_token(session, role=Role.TRAINER, scope="read")

    head = client.head(f"/api/v1/recordings/{call.id}/audio", headers=bearer(token))

    assert head.status_code == 403
    refused = events(session, "access.denied", call.id)
    assert [event.details["method"] for event in refused] == ["HEAD"]
