"""Issue 5's acceptance, as a new user tries it, on a real `callvault run` and Debian's chromium.

The admin from the first run enrols TOTP through the one-time link the CLI prints and creates a QA supervisor
and a compliance officer, each of whom sets password and TOTP through their own link; the supervisor, in a
second browser session, plays a call; the compliance officer's audit page shows
both the supervisor's login and the playback; `callvault audit verify` reports the chain intact.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from recordings_service.storage.embedded import PORT_SPAN
from tests.browser_support import wait_until
from tests.callvault_process import BIN, callvault_env, start, stop, wait_ready
from tests.conftest import DATA_DIR, free_port_block
from tests.factories.accounts import browser_enrol
from tests.factories.recordings import call_metadata
from tests.live_server import LiveServer, MultipartBody, post_recording

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_PASSWORD = "first admin password, long enough"
STAFF_PASSWORD = "a personal password for staff"


def create_user(page: Any, username: str, role: str) -> str:
    """The admin creates the account; the answer shows its holder's one-time link."""
    page.goto("/admin/users/new")
    page.fill("#username", username)
    page.select_option("#role", role)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    return str(page.locator("#enrolment-link").inner_text().strip())


def test_admin_creates_staff_a_supervisor_plays_and_compliance_sees_it(browser: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port, s3_port = free_port_block(1), free_port_block(PORT_SPAN)
    # No transcription here: a missing model is reported at start and the other jobs keep running.
    extra = {"admin_password": ADMIN_PASSWORD, "transcribe_model": str(tmp_path / "no-model")}
    run = start(data_dir, port, s3_port, **extra)
    env = callvault_env(data_dir, port, s3_port)

    def cli(*args: str) -> str:
        done = subprocess.run([str(BIN / "callvault"), *args], env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        wait_ready(port, run)
        cli("users", "create", "pbx", "--role", "service")
        token = cli("tokens", "create", "pbx", "--scope", "ingest", "--source", "pbx-test")
        status, body = post_recording(
            LiveServer(run, port),
            token,
            MultipartBody(DATA_DIR / "call_en_stereo.wav", call_metadata()),  # type: ignore[arg-type]
        )
        assert status == 201, body
        recording_id = body["id"]

        base = f"http://127.0.0.1:{port}"
        admin = browser.new_context(base_url=base).new_page()
        browser_enrol(admin, cli("users", "enrolment-link", "admin"), password=ADMIN_PASSWORD)
        maria_link = create_user(admin, "qa.maria", "qa_supervisor")
        olli_link = create_user(admin, "comp.olli", "compliance")

        supervisor = browser.new_context(base_url=base).new_page()  # a second browser session
        browser_enrol(supervisor, maria_link, password=STAFF_PASSWORD)
        supervisor.goto(f"/calls/{recording_id}")
        supervisor.locator("#call-audio").focus()
        supervisor.keyboard.press("k")
        wait_until(supervisor, "() => document.getElementById('call-audio').currentTime > 0.5")

        compliance = browser.new_context(base_url=base).new_page()
        browser_enrol(compliance, olli_link, password=STAFF_PASSWORD)
        compliance.goto(f"/audit/?object_id={recording_id}")
        played = compliance.locator("tr", has_text="recording.played")
        assert played.count() == 1 and "qa.maria" in played.inner_text()
        compliance.goto("/audit/?action=login.succeeded&actor=qa.maria")
        assert compliance.locator("tr", has_text="login.succeeded").count() == 1

        assert cli("audit", "verify").startswith("intact")
    finally:
        output = stop(run, data_dir)
    assert "job disabled" in output  # the missing model was reported when the jobs process started
