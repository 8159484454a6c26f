"""The offline page inside a training set's export (index.html) was in English whatever language its reader used
the library in: `<html lang="en">`, 'agent' and 'customer', '3.0 s', 'removed (retention)', the date as ISO. It
is now in the language of the request downloading it: the web layer passes the page's words in from its
catalogue (the core has no Flask and no catalogue)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import TrainingClip
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training.export_page import PageWords, index_html
from tests.factories.recordings import make_token
from tests.factories.training import bearer, stereo_call


def test_the_exported_page_is_in_the_language_of_its_reader(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    def cut(title: str, start_s: float, end_s: float) -> str:
        body = {"recording_id": call.id, "title": title, "start_s": start_s, "end_s": end_s}
        made = client.post("/api/v1/training/clips", headers=trainer, json=body)
        assert made.status_code == 201, made.get_data(as_text=True)
        return str(made.get_json()["id"])

    kept, gone = cut("Greeting", 0.5, 3.5), cut("Closing", 17.7, 23.0)
    body = {"title": "Openings", "clip_ids": [kept, gone]}
    set_id = client.post("/api/v1/training/sets", headers=trainer, json=body).get_json()["id"]
    removed = session.get_one(TrainingClip, gone)
    removed.removed_at, removed.removed_reason = utcnow(), "retention"
    session.commit()
    exported = client.post(f"/api/v1/training/sets/{set_id}/exports", headers=trainer).get_json()

    def read(language: str, name: str) -> str:
        download = client.get(exported["download"], headers={**trainer, "Accept-Language": language})
        assert download.status_code == 200
        return zipfile.ZipFile(io.BytesIO(download.data)).read(name).decode()

    def page(language: str) -> str:
        return read(language, "index.html")

    finnish = page("fi")
    assert '<html lang="fi">' in finnish
    assert '<span class="speaker">Asiakaspalvelija</span>' in finnish and '"speaker">agent<' not in finnish
    assert "3,0 s" in finnish and "3.0 s" not in finnish
    assert "2. poistettu (säilytysaika)" in finnish and "removed (retention)" not in finnish
    assert " klo " in finnish  # the Finnish time, 4.12.2026 klo 6.56

    english = page("en")
    assert '<html lang="en">' in english and '<span class="speaker">Agent</span>' in english
    assert "3.0 s" in english and "2. removed (retention)" in english
    assert "Exported 20" in english and "Play all" in english

    # The clips' text transcripts name the speakers as the page does (they said "agent" on a Finnish export).
    assert "] Asiakaspalvelija: " in read("fi", "transcripts/01.txt")
    assert "] Agent: " in read("en", "transcripts/01.txt")


def test_the_page_escapes_the_words_it_is_given() -> None:
    manifest = {"exported_at": "2026-12-04T04:56:16+00:00", "clips": [{"number": 1, "status": "deleted"}]}
    words = PageWords(lang='fi"', play_all="<b>Soita</b>", state=lambda status, reason: f"<i>{status}</i>")
    page = index_html("Set", "", manifest, exported=datetime(2026, 12, 4, 4, 56, tzinfo=UTC), words=words)
    assert '<html lang="fi&quot;">' in page and "&lt;b&gt;Soita&lt;/b&gt;" in page
    assert "1. &lt;i&gt;deleted&lt;/i&gt;" in page and "<b>" not in page and "<i>" not in page
