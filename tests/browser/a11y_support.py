"""The live app the keyboard, screen-reader and axe-core browser tests share: one signed-in person per role,
a transcribed stereo call, a mono call and a stereo call with known silences and overtalk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from recordings_service.calls.waveform import peaks_key
from recordings_service.config import Settings
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.audio.fixture_files import OVERTALK_CALL_S, overtalk_call
from tests.browser_support import private_runtime, serving
from tests.factories.accounts import browser_sign_in, make_enrolled_user
from tests.factories.recordings import FOR_TRAINING_TOO, MONO, make_recording
from tests.factories.research import institute
from tests.factories.reviews import make_transcribed_call
from web import create_app

ROLES = (Role.QA_SUPERVISOR, Role.COMPLIANCE, Role.ADMIN, Role.TRAINER, Role.RESEARCH_PARTNER, Role.AGENT)


@dataclass
class A11yLive:
    url: str
    runtime: Runtime
    accounts: dict[str, tuple[str, str]]  # role -> (username, TOTP secret)
    stereo_id: str  # the English fixture call, transcribed
    mono_id: str
    overtalk_id: str  # silences at about 3.5–7 s and 14–17 s, overtalk at about 9–12 s

    def sign_in(self, browser: Any, role: str) -> Any:
        """A new 1280 × 900 tab signed in as the person holding `role`."""
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=self.url)
        tab = context.new_page()
        username, secret = self.accounts[role]
        browser_sign_in(tab, username, secret)
        return tab


@pytest.fixture(scope="module")
def a11y_live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[A11yLive]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("a11y-browser"))
    with runtime.sessions() as session:
        people = {}
        for role in ROLES:
            user, secret = make_enrolled_user(session, envelope, role=role)
            if role == Role.RESEARCH_PARTNER:
                user.institute_id = institute(session).id
            if role == Role.AGENT:
                user.agent_ref = "agent-1"  # who took the fixture calls
            people[str(role)] = (user.username, secret)
        calls = [
            make_transcribed_call(session, store, envelope, queue="a11y", purposes=FOR_TRAINING_TOO),
            make_recording(
                session,
                store,
                envelope,
                audio=MONO,
                channels=1,
                duration_s=5.22,
                codec="pcm_s16le",
                queue="a11y",
                status="transcribed",
            ),
            make_recording(
                session,
                store,
                envelope,
                audio=overtalk_call(runtime.settings.ffmpeg_path()),
                duration_s=OVERTALK_CALL_S,
                queue="a11y",
                status="transcribed",
            ),
        ]
        session.commit()
        ids = [call.id for call in calls]
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "a11y-test-server") as url:
            yield A11yLive(url, runtime, people, *ids)
    finally:
        with runtime.sessions() as session:
            for recording_id in ids:
                stored = session.get(Recording, recording_id)
                if stored is not None:
                    store.delete(stored.storage_key)
                store.delete(peaks_key(recording_id))
        runtime.engine.dispose()


def choose_language(page: Any, code: str) -> None:
    """Switch the interface language with the header's picker, as a person does."""
    page.select_option("#language-select", code)
    page.click("form.language input[type=submit]")
    page.wait_for_load_state()
