"""Issue 6's acceptance, as a new user tries it: `callvault run` with the real Whisper model, a sample
call ingested over the API, then a QA supervisor in Debian's chromium finds the call by a word said
in it, plays it with the transcript in sync, scores it, and downloads an evidence ZIP whose audio
hash matches the one taken at ingest."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from recordings_service.storage.embedded import PORT_SPAN
from tests.browser_support import score_with_first_answers, wait_until
from tests.callvault_process import BIN, callvault_env, start, stop, wait_ready
from tests.conftest import DATA_DIR, free_port_block
from tests.factories.accounts import browser_enrol
from tests.factories.recordings import call_metadata
from tests.live_server import LiveServer, MultipartBody, post_recording

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a personal password for staff"
SAID = "kilowatt"  # "…8.9 cents per kilowatt hour…", which Whisper base transcribes reliably
SEEK_TOLERANCE_S = 0.3


def wait_transcribed(port: int, token: str, recording_id: str, timeout_s: float = 240) -> float:
    started = time.monotonic()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/recordings/{recording_id}", headers={"Authorization": f"Bearer {token}"}
    )
    while time.monotonic() - started < timeout_s:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = json.load(response)["status"]
        assert status != "failed"
        if status == "transcribed":
            return time.monotonic() - started
        time.sleep(1)
    pytest.fail(f"not transcribed within {timeout_s:.0f} s")


def test_supervisor_finds_plays_scores_and_exports_evidence(browser: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port, s3_port = free_port_block(1), free_port_block(PORT_SPAN)
    run = start(data_dir, port, s3_port, admin_password="first admin password, long enough")
    env = callvault_env(data_dir, port, s3_port)

    def cli(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(BIN / "callvault"), *args], env=env, input=stdin, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    try:
        wait_ready(port, run)
        cli("users", "create", "pbx", "--role", "service")
        link = cli("users", "create", "qa.maria", "--role", "qa_supervisor", "--password-stdin", stdin=PASSWORD + "\n")
        cli("forms", "seed-default")
        ingest = cli("tokens", "create", "pbx", "--scope", "ingest", "--source", "pbx-test")
        read = cli("tokens", "create", "qa.maria", "--scope", "read")
        status, body = post_recording(
            LiveServer(run, port),  # type: ignore[arg-type]
            ingest,
            MultipartBody(DATA_DIR / "call_en_stereo.wav", call_metadata(queue="acceptance")),
        )
        assert status == 201, body
        recording_id, sha256_at_ingest = body["id"], body["sha256"]
        print(f"transcribed {wait_transcribed(port, read, recording_id):.0f} s after ingest")

        page = browser.new_context(base_url=f"http://127.0.0.1:{port}", accept_downloads=True).new_page()
        browser_enrol(page, link, password=PASSWORD)  # her own password and authenticator app; signs her in

        page.goto("/calls/")
        page.fill("#q", SAID)
        page.click(".call-filters button[type=submit]")
        page.wait_for_selector("a.at")
        page.locator("a.at").first.click()
        page.wait_for_url(f"**/calls/{recording_id}?t=*")

        word = page.locator(".segments .w", has_text=SAID).first
        start_s = float(word.get_attribute("data-start") or "nan")
        page.keyboard.press("k")  # play
        wait_until(page, "() => !document.getElementById('call-audio').paused")
        word.click()
        now = float(page.evaluate("document.getElementById('call-audio').currentTime"))
        assert abs(now - start_s) <= SEEK_TOLERANCE_S
        wait_until(page, "() => document.querySelector('.segments .w.playing') !== null")
        page.keyboard.press("k")  # pause

        score_with_first_answers(page)
        page.wait_for_url(f"**/calls/{recording_id}?form_id=*")  # back at the call, its evaluation panel
        page.goto("/calls/?queue=acceptance&evaluated=yes")
        assert page.locator("table.calls tbody tr").count() == 1

        page.goto(f"/calls/{recording_id}")
        with page.expect_download() as download:
            page.click("text=Download evidence (ZIP)")
        package = tmp_path / "evidence.zip"
        download.value.save_as(package)
        with zipfile.ZipFile(package) as evidence:
            manifest = json.loads(evidence.read("manifest.json"))
            audio_name = next(name for name in evidence.namelist() if name.startswith("original."))
            assert hashlib.sha256(evidence.read(audio_name)).hexdigest() == sha256_at_ingest
            assert manifest["sha256_at_ingest"] == sha256_at_ingest
            for name, digest in manifest["files"].items():
                assert hashlib.sha256(evidence.read(name)).hexdigest() == digest
    finally:
        stop(run, data_dir)
