"""A CSV download opens by double-click in the reader's spreadsheet: Excel splits rows at the locale's list
separator and reads numbers with its decimal separator, in Finnish ";" and ",". Found acting as a Finnish compliance
officer and QA lead: the call list's and the audit trail's exports were comma-separated, so each row opened as one
cell of text, and a call's duration of 23.7 s would have read as 23 July. A Finnish reader now gets semicolons and
decimal commas; an English one what it got before."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM, csrf_token, login, make_user
from tests.factories.recordings import make_recording
from tests.factories.search import evaluate, random_day
from tests.web.reader_language import ENGLISH, FINNISH

NOTE = {"note": "kept; whole, with its separators, 1,5"}
LANGUAGES = {"en": (ENGLISH, ",", "23.7", "80.5"), "fi": (FINNISH, ";", "23,7", "80,5")}


@pytest.fixture
def day() -> datetime:
    return random_day()


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime) -> Recording:
    made = make_recording(session, store, envelope, audio=b"RIFF", started_at=day, duration_s=23.7, queue="Käyttö")
    evaluate(session, made, evaluator=make_user(session, role=Role.QA_SUPERVISOR), score=80.5)
    return made


def rows(body: bytes, delimiter: str) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_call_list_export_uses_the_readers_separators(
    client: FlaskClient, session: Session, call: Recording, language: str
) -> None:
    headers, delimiter, duration, score = LANGUAGES[language]
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    data = {"csrf_token": csrf_token(client, "/calls/"), "recording_id": [call.id], "back": ""}

    response = client.post("/calls/export.csv", data=data, headers=headers)

    assert response.status_code == 200
    [row] = rows(response.get_data(), delimiter)
    assert (row["id"], row["queue"], row["duration_s"], row["score"]) == (call.id, "Käyttö", duration, score)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_audit_export_uses_the_readers_list_separator(
    client: FlaskClient, session: Session, call: Recording, language: str
) -> None:
    headers, delimiter, _, _ = LANGUAGES[language]
    record_event(session, actor=SYSTEM, action="probe.csv", object_type="recording", object_id=call.id, details=NOTE)
    login(client, make_user(session, role=Role.COMPLIANCE))

    response = client.get(f"/audit/export.csv?action=probe.csv&object_id={call.id}", headers=headers)

    assert response.status_code == 200
    [row] = rows(response.get_data(), delimiter)
    assert (row["action"], row["object_id"], json.loads(row["details"])) == ("probe.csv", call.id, NOTE)
