"""The evidence ZIP's files are dated when it was made, as the clocks in Helsinki showed it: a ZIP's dates carry
no zone, and the server's clock (UTC) put every file two or three hours early, on the day before around midnight."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.reviews import make_transcribed_call

HELSINKI = ZoneInfo("Europe/Helsinki")  # the organisation's zone: the settings' default


def test_every_file_is_dated_when_the_package_was_made_in_helsinki(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    response = post_form(client, f"/calls/{call.id}/evidence", {}, token_from=f"/calls/{call.id}")

    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        entries = {info.filename: datetime(*info.date_time) for info in archive.infolist()}
        generated = datetime.fromisoformat(json.loads(archive.read("manifest.json"))["generated_at"])
        assert archive.read("original.wav")  # the original is there, written from its file
    made_here = generated.astimezone(HELSINKI).replace(tzinfo=None)
    assert {"original.wav", "metadata.json", "audit_trail.json", "manifest.json"} <= set(entries)
    # ZIP dates count seconds in twos.
    assert {name: abs(moment - made_here) <= timedelta(seconds=2) for name, moment in entries.items()} == dict.fromkeys(
        entries, True
    )
