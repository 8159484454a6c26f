"""An Ogg file that does not end with the page closing its stream is refused as cut short, through the API and the
inbox alike, as a WAV, MP3 or FLAC file short of its header is.

Found by exploratory testing of the inbox: Ogg declares no length, so an Opus drop whose writer paused after a third
of the call was probed as a call a third as long, stored, and filed under done/ with a receipt like any other; the
writer then finished the file in done/, where the purge removed it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service.audio.probe import UnsupportedAudio, probe_audio
from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from tests.factories.inbox import calls_with, drop, run
from tests.factories.recordings import call_metadata

DATA = Path(__file__).parents[1] / "data"
FFMPEG = Settings().ffmpeg_path()
SIX_HOURS = 6 * 3600.0
CUT_SHORT = "the Ogg stream does not end"


@pytest.fixture(scope="module", params=["libopus", "libvorbis"])
def encoded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The English stereo call (24 s) in an Ogg codec, made by the test's own ffmpeg (not under test)."""
    path = tmp_path_factory.mktemp("ogg") / "call.ogg"
    source = str(DATA / "call_en_stereo.wav")
    command = [FFMPEG, "-nostdin", "-v", "error", "-i", source, "-c:a", request.param, "-b:a", "32k", str(path)]
    subprocess.run(command, check=True, timeout=120)
    return path.read_bytes()


def pages(data: bytes) -> list[int]:
    return [at for at in range(len(data)) if data.startswith(b"OggS", at)]


def test_a_whole_file_is_taken_and_one_cut_at_a_page_or_inside_one_is_refused(encoded: bytes, tmp_path: Path) -> None:
    whole = tmp_path / "whole.ogg"
    whole.write_bytes(encoded)
    assert probe_audio(whole, max_duration_s=SIX_HOURS).duration_s == pytest.approx(23.7, abs=0.3)
    starts = pages(encoded)
    for name, cut in (("at-a-page", starts[len(starts) // 3]), ("inside-a-page", len(encoded) // 3 + 17)):
        short = tmp_path / f"{name}.ogg"
        short.write_bytes(encoded[:cut])
        with pytest.raises(UnsupportedAudio, match=CUT_SHORT):
            probe_audio(short, max_duration_s=SIX_HOURS)


def test_an_ogg_drop_cut_short_goes_to_failed_and_is_not_stored(
    encoded: bytes,
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    metadata = call_metadata()
    starts = pages(encoded)
    drop(inbox, "paused.ogg", encoded[: starts[len(starts) // 3]], metadata)

    assert run(inbox_runtime, caplog)["refused"] == 1

    assert calls_with(session, metadata["external_call_id"]) == 0
    reason = json.loads((inbox / "failed" / "paused.ogg.error.json").read_text())
    assert reason["error"] == "unsupported_audio" and CUT_SHORT in reason["message"]
