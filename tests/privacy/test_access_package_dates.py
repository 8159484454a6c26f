"""The access package's files are dated as the clocks in Helsinki showed it (a ZIP's dates carry no zone, so the
customer reads them as local time): each call's audio when the call started, the documents when the package was
made. In UTC, a call made at half past midnight on 1 November was dated 31 October."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.privacy import package_queue, subjects
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, aged_call, customer

HELSINKI = ZoneInfo("Europe/Helsinki")  # the organisation's zone: the settings' default


def test_audio_is_dated_when_the_call_started_and_documents_when_made_in_helsinki(
    session: Session, store: S3ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    assert runtime.settings.timezone == "Europe/Helsinki"
    person = customer(session)
    started = datetime(2026, 11, 1, 0, 30, tzinfo=HELSINKI)  # 31 October, 22:30 in UTC
    call = aged_call(
        session, store, envelope, started_at=started.astimezone(UTC), purposes=["training"], customer_id=person.id
    )
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=datetime.now(UTC)
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()

    subject_access.build_packages(runtime)
    session.expire_all()  # built in the jobs' own sessions

    _, reader = package_queue.open_package(session, store, envelope, actor=OFFICER, request_id=request.id)
    with reader, zipfile.ZipFile(io.BytesIO(reader.read())) as archive:
        entries = {info.filename: datetime(*info.date_time) for info in archive.infolist()}
        generated = datetime.fromisoformat(json.loads(archive.read("manifest.json"))["generated_at"])
    (audio,) = [name for name in entries if name.startswith(f"recordings/{call.id}/audio.")]
    assert entries.pop(audio) == datetime(2026, 11, 1, 0, 30)
    made_here = generated.astimezone(HELSINKI).replace(tzinfo=None)
    assert {"README.txt", "request.json", "manifest.json"} <= set(entries)
    # ZIP dates count seconds in twos.
    assert {name: abs(moment - made_here) <= timedelta(seconds=2) for name, moment in entries.items()} == dict.fromkeys(
        entries, True
    )
