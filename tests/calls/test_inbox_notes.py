"""The importer's notes in the inbox under names in another letter case, and a short sidecar left over beside audio
files that each have their own."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service.calls.inbox import ORPHAN_AFTER_S
from recordings_service.runtime import Runtime
from tests.factories.inbox import calls_with, drop, names_in, run
from tests.factories.recordings import STEREO, call_metadata

COUNTS = ("imported", "already_imported", "refused", "waiting", "orphaned", "taken", "errors")
NONE = dict.fromkeys(COUNTS, 0)


def a_day_later(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime.now(UTC) + timedelta(seconds=ORPHAN_AFTER_S + 60)
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: moment)


@pytest.mark.parametrize("note", ["x.wav.ERROR.JSON", "x.wav.Receipt.json", "x.wav.error.JSON"])
@pytest.mark.parametrize("partner", ["sidecar", "none"])
def test_a_note_in_another_letter_case_is_removed_when_its_item_is_filed_again(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    note: str,
    partner: str,
) -> None:
    """Found by review: `is_note` takes `x.wav.ERROR.JSON` for the importer's note on x.wav, but only the lowercase
    names were removed when x.wav was filed again; the other stayed, and was filed a day later as a stray note."""
    metadata = call_metadata()
    drop(inbox, "x.wav", STEREO, metadata if partner == "sidecar" else None)
    (inbox / note).write_text(json.dumps({"error": "invalid", "field": "direction", "message": "as moved back"}))
    if partner == "sidecar":
        assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
        assert names_in(inbox) == ["done"]
        assert names_in(inbox / "done") == ["x.wav", "x.wav.json", "x.wav.receipt.json"]
        assert calls_with(session, metadata["external_call_id"]) == 1
    else:
        a_day_later(monkeypatch)
        assert run(inbox_runtime, caplog, COUNTS) == NONE | {"orphaned": 1}
        assert names_in(inbox) == ["failed"]
        assert names_in(inbox / "failed") == ["x.wav", "x.wav.error.json"]
        assert json.loads((inbox / "failed" / "x.wav.error.json").read_text())["error"] == "no_partner"
    a_day_later(monkeypatch)
    assert run(inbox_runtime, caplog, COUNTS) == NONE


def test_a_short_sidecar_beside_audio_files_that_each_have_their_own_says_so(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: `a.json` beside `a.wav` and `a.mp3`, each with its own sidecar, was filed a day after it
    came as `no_partner`, "no audio file arrived", beside the two audio files (here the jobs process was down a
    day). Its note says it fits both and each has a sidecar of its own, naming the files, never what they hold."""
    metadata = [call_metadata(), call_metadata()]
    drop(inbox, "a.wav", STEREO, metadata[0])
    drop(inbox, "a.mp3", STEREO, metadata[1])
    leftover = call_metadata(external_call_id="call-leftover-7")
    (inbox / "a.json").write_text(json.dumps(leftover))
    a_day_later(monkeypatch)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 2, "refused": 1}
    assert all(calls_with(session, each["external_call_id"]) == 1 for each in metadata)
    assert calls_with(session, leftover["external_call_id"]) == 0
    assert names_in(inbox / "failed") == ["a.json", "a.json.error.json"]
    reason = json.loads((inbox / "failed" / "a.json.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("ambiguous_sidecar", "metadata")
    assert reason["message"].startswith("a.json fits a.mp3 and a.wav, and each of them has a sidecar of its own")
    assert "arrived" not in reason["message"] and "leftover" not in json.dumps(reason)


@pytest.mark.parametrize("leftover_age", ["settled", "still-being-copied"])
def test_a_short_sidecar_beside_audio_files_that_each_have_their_own_is_filed_when_they_are_imported(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    leftover_age: str,
) -> None:
    """Found by review: `a.json` beside `a.wav` and `a.mp3`, each with its own sidecar, waited while they were
    imported, and a day later, alone, was filed as `no_partner`, "no audio file arrived". It is filed as an audio file
    with two sidecars is, at once, saying it fits both and each has its own; one still being copied holds the pairs
    back a few seconds, so that it is seen beside them."""
    metadata = [call_metadata(), call_metadata()]
    drop(inbox, "a.wav", STEREO, metadata[0])
    drop(inbox, "a.mp3", STEREO, metadata[1])
    (inbox / "a.json").write_text(json.dumps(call_metadata(external_call_id="call-leftover-8")))
    if leftover_age == "still-being-copied":
        assert run(inbox_runtime, caplog, COUNTS) == NONE | {"waiting": 3}
        assert names_in(inbox) == ["a.json", "a.mp3", "a.mp3.json", "a.wav", "a.wav.json"]
    os.utime(inbox / "a.json", (time.time() - 60,) * 2)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 2, "refused": 1}
    assert all(calls_with(session, each["external_call_id"]) == 1 for each in metadata)
    assert names_in(inbox) == ["done", "failed"]
    assert names_in(inbox / "failed") == ["a.json", "a.json.error.json"]
    reason = json.loads((inbox / "failed" / "a.json.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("ambiguous_sidecar", "metadata")
    assert reason["message"].startswith("a.json fits a.mp3 and a.wav, and each of them has a sidecar of its own")
    a_day_later(monkeypatch)
    assert run(inbox_runtime, caplog, COUNTS) == NONE


def test_a_sidecars_own_note_moved_back_with_it_is_removed_when_the_pair_is_filed(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: only the notes on the item's first file (its audio) were removed when it was filed again. A
    sidecar filed alone as having no audio, moved back with its note beside the audio that came late, was imported
    with it, and its note stayed, to be filed a day later as a note whose item never came."""
    inbox.mkdir()
    (inbox / "x.wav.json").write_text(json.dumps(metadata := call_metadata()))
    a_day_later(monkeypatch)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"orphaned": 1}
    assert names_in(inbox / "failed") == ["x.wav.json", "x.wav.json.error.json"]
    for name in names_in(inbox / "failed"):
        (inbox / "failed" / name).replace(inbox / name)
    drop(inbox, "x.wav", STEREO, None)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert names_in(inbox) == ["done", "failed"]
    assert names_in(inbox / "done") == ["x.wav", "x.wav.json", "x.wav.receipt.json"]
    assert names_in(inbox / "failed") == []


def test_a_stray_notes_own_note_is_removed_when_it_is_filed(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note filed alone, moved back with the note saying so, is filed again a day later, and that note removed."""
    inbox.mkdir()
    (inbox / "x.wav.error.json").write_text(json.dumps({"error": "invalid", "field": "direction", "message": "m"}))
    (inbox / "x.wav.error.json.error.json").write_text(json.dumps({"error": "no_partner", "message": "as moved back"}))
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"waiting": 1}
    a_day_later(monkeypatch)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"orphaned": 1}
    assert names_in(inbox) == ["failed"]
    assert names_in(inbox / "failed") == ["x.wav.error.json", "x.wav.error.json.error.json"]
    reason = json.loads((inbox / "failed" / "x.wav.error.json.error.json").read_text())
    assert reason["error"] == "no_partner" and "no x.wav was beside it" in reason["message"]
