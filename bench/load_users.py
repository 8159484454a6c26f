"""The simulated people of `bench.load`, as a Locust file: QA supervisors in a browser and telephony ingest clients.

`bench.load` runs it (`locust -f bench/load_users.py`) with the path of a JSON plan in CALLVAULT_LOAD_PLAN:
the supervisors' accounts, the ingest token, the calls that have real audio, the evaluation form. Every
request is named after its kind ("page …", "read …", "write …", "sign-in …"), which `bench.load` judges by.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.env import Environment
from locust.exception import StopUser

from bench.stats import LATENCY_SHARES
from tests.factories.accounts import totp_now
from tests.factories.recordings import call_metadata

PLAN: dict[str, Any] = json.loads(Path(os.environ["CALLVAULT_LOAD_PLAN"]).read_text())
# A supervisor reads a page of results, or listens on, for a few seconds before the next step. Listening is
# compressed: a few parts of each call, seconds apart, where a person would listen for minutes.
THINK_S = (2.0, 5.0)
LISTENED_PARTS = 3  # audio ranges fetched while listening, after the first one the player fetches at once
SCORE_SHARE = 0.2  # of the calls a supervisor opens, they score this many
AUDIO_RANGE_BYTES = 64 * 1024  # what a browser's player asks for at a time (4 s of the 8 kHz G.711 stereo fixture)
# What supervisors type into the call list: words of bench.search's corpus, some with filters.
SEARCHES: tuple[dict[str, str], ...] = (
    {"q": "kiitos"},
    {"q": "invoice"},
    {"q": "vattenskadan"},
    {"q": "sopimuksen hinta", "queue": "billing", "language": "fi"},
    {"q": "laskun", "agent_ref": "agent-17"},
    {"queue": "sales", "date_from": "2026-09-01", "date_to": "2026-10-01"},
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
AUDIO_SRC = re.compile(r'<audio id="call-audio"[^>]*\ssrc="([^"]+)"')
PEAKS_URL = re.compile(r'data-peaks-url="([^"]+)"')
_accounts = itertools.count()


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise StopUser("no CSRF token on the page")
    return match.group(1)


class Supervisor(HttpUser):
    """Signs in (password, then TOTP), then lists or searches calls, reviews one with its player, scores some."""

    fixed_count = PLAN["supervisor_count"]
    wait_time = between(*THINK_S)

    def on_start(self) -> None:
        account = PLAN["supervisors"][next(_accounts)]
        # Each supervisor at a desk of their own (the server believes one proxy): the login throttle counts
        # attempts per address, and fifty people signing in from one address is not what it is there for.
        self.client.headers["X-Forwarded-For"] = account["address"]
        self.client.headers["Sec-Fetch-Site"] = "same-origin"
        login_page = self.client.get("/login", name="sign-in page")
        with self.client.post(
            "/login",
            data={"username": account["username"], "password": PLAN["password"], "csrf_token": _csrf(login_page.text)},
            allow_redirects=False,
            name="sign-in password",
            catch_response=True,
        ) as answer:
            if answer.headers.get("Location") != "/login/mfa":
                answer.failure(f"the password step answered {answer.status_code}, not the TOTP step")
                raise StopUser
        mfa_page = self.client.get("/login/mfa", name="sign-in page")
        with self.client.post(
            "/login/mfa",
            # The current step's code: it stays valid for the next step too, however long the server queues it.
            data={"code": totp_now(account["secret"]), "csrf_token": _csrf(mfa_page.text)},
            allow_redirects=False,
            name="sign-in totp",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or "/login" in answer.headers.get("Location", "/login"):
                answer.failure(f"the TOTP step answered {answer.status_code}, not a signed-in page")
                raise StopUser

    @task(1)
    def dashboard(self) -> None:
        self.client.get("/dashboard", name="page /dashboard")

    @task(6)
    def review_a_call(self) -> None:
        """Find calls, open one (its page fetches the waveform, transcript and first audio at once), listen to
        some of it, and now and then score it."""
        if random.random() < 0.3:
            self.client.get("/calls/", name="page /calls/ (list)")
        else:
            self.client.get("/calls/", params=random.choice(SEARCHES), name="page /calls/?q= (search)")
        # time.sleep lets the other simulated people run meanwhile: importing Locust monkey-patches it (gevent).
        time.sleep(random.uniform(*THINK_S))
        recording_id = random.choice(PLAN["playable_ids"])
        with self.client.get(f"/calls/{recording_id}", name="page /calls/<id>", catch_response=True) as page:
            audio = AUDIO_SRC.search(page.text)
            peaks = PEAKS_URL.search(page.text)
            if audio is None or peaks is None:
                page.failure(f"the call page ({page.status_code}) has no player")
                return
        self.client.get(peaks.group(1).replace("&amp;", "&"), name="read peaks.json")
        self.client.get(f"/api/v1/recordings/{recording_id}/transcript", name="read transcript (API)")
        audio_url = audio.group(1).replace("&amp;", "&")
        for part in range(1 + LISTENED_PARTS):
            if part:
                time.sleep(random.uniform(*THINK_S))
            first = part * AUDIO_RANGE_BYTES
            with self.client.get(
                audio_url,
                headers={"Range": f"bytes={first}-{first + AUDIO_RANGE_BYTES - 1}"},
                name="read audio (Range)",
                catch_response=True,
            ) as played:
                if played.status_code != 206:
                    played.failure(f"audio answered {played.status_code}, not 206")
        if random.random() < SCORE_SHARE:
            self.score(recording_id, _csrf(page.text))

    def score(self, recording_id: str, csrf_token: str) -> None:
        with self.client.post(
            f"/calls/{recording_id}/evaluation",
            data={"form_id": PLAN["form_id"], **PLAN["answers"], "csrf_token": csrf_token},
            allow_redirects=False,
            name="write evaluation",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"the evaluation answered {answer.status_code}")


class IngestClient(HttpUser):
    """The telephony system: posts a finished call (a small real WAV) with its metadata, one after another."""

    fixed_count = PLAN["ingest_count"]
    wait_time = between(0.5, 2.0)
    audio = Path(PLAN["ingest_audio"]).read_bytes()

    @task
    def post_call(self) -> None:
        metadata = call_metadata()  # a fresh external_call_id each time
        with self.client.post(
            "/api/v1/recordings",
            files={
                "metadata": (None, json.dumps(metadata), "application/json"),
                "audio": ("call.wav", self.audio, "application/octet-stream"),
            },
            headers={"Authorization": f"Bearer {PLAN['ingest_token']}"},
            name="write ingest (API)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"ingest answered {answer.status_code}: {answer.text[:200]}")


def write_summary(environment: Environment, **_: object) -> None:
    """The final figures, after every user stopped, for `bench.load` (Locust's CSV files lag behind the run)."""
    stats = environment.stats
    entries = [*stats.entries.values(), stats.total]
    summary = {
        "requests": [
            {
                "name": entry.name,
                "count": entry.num_requests,
                "errors": entry.num_failures,
                "rps": entry.total_rps,
                **{f"p{round(share * 100)}": entry.get_response_time_percentile(share) for share in LATENCY_SHARES},
            }
            for entry in entries
        ],
        "errors": [
            {"request": f"{error.method} {error.name}", "error": str(error.error), "count": error.occurrences}
            for error in stats.errors.values()
        ],
    }
    Path(PLAN["summary_path"]).write_text(json.dumps(summary))


events.quitting.add_listener(write_summary)  # type: ignore[no-untyped-call]  # Locust's hooks carry no types
