"""Names in the inbox as operators' tools leave them: a Mac's decomposed Unicode, two sidecars named alike, and a
folder under a sidecar's name."""

from __future__ import annotations

import json
import os
import shutil
import time
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service.calls import inbox as inbox_module
from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from tests.factories.inbox import calls_with, drop, run
from tests.factories.recordings import STEREO, call_metadata

COUNTS = ("imported", "already_imported", "refused", "waiting", "orphaned", "taken", "errors")
NONE = dict.fromkeys(COUNTS, 0)


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize(
    ("audio", "sidecar"),
    [
        (nfc("kÄYTTÄJÄ.wav"), nfd("kÄYTTÄJÄ.wav.json")),
        (nfd("mäki.wav"), nfc("mäki.json")),
    ],
    ids=["nfc-audio-nfd-sidecar", "nfd-audio-nfc-short-sidecar"],
)
def test_names_in_another_unicode_form_pair(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture, audio: str, sidecar: str
) -> None:
    """Found by review: a Mac's copy writes `ä` as `a` and a combining diaeresis (NFD); a sidecar so copied beside an
    audio file named in the composed form (NFC) never paired, and both were filed a day later as partnerless."""
    assert audio.encode() != nfc(audio).encode() or sidecar.encode() != nfc(sidecar).encode()
    metadata = call_metadata()
    drop(inbox, audio, STEREO, metadata, sidecar_name=sidecar)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert names_in(inbox / "done") == sorted([audio, sidecar, audio + ".receipt.json"])
    assert calls_with(session, metadata["external_call_id"]) == 1
    # Dropped again, it is filed beside the first, each name numbered in its own form, so still a pair.
    drop(inbox, audio, STEREO, metadata, sidecar_name=sidecar)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"already_imported": 1}
    filed = [audio, sidecar, audio + ".receipt.json"]
    numbered = [name.replace(".", "~1.", 1) for name in filed]
    assert names_in(inbox / "done") == sorted(filed + numbered)


@pytest.mark.parametrize(
    "sidecars",
    [
        ["a.wav.json", "a.wav.JSON"],
        ["a.json", "a.JSON"],
        [nfc("ä.wav.json"), nfd("ä.wav.json")],
        ["a.wav.json", "a.json"],
    ],
    ids=["case", "case-short", "unicode-form", "both-styles"],
)
def test_an_audio_file_with_two_sidecars_named_alike_is_filed_with_both_at_once(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture, sidecars: list[str]
) -> None:
    """Found by review: `a.wav.json` beside `a.wav.JSON` (or beside `a.json`, the other naming style) had one taken for
    the call's metadata, a guess, and the other filed a day later as a sidecar without audio. Both go to failed/ at
    once, with the audio, saying why."""
    audio = "ä.wav" if "ä" in nfc(sidecars[0]) else "a.wav"
    metadata = [call_metadata(), call_metadata()]
    for attempt in ("", "~1"):  # the second time, under names that the first did not take
        drop(inbox, audio, STEREO, metadata[0], sidecar_name=sidecars[0])
        drop(inbox, audio, STEREO, metadata[1], sidecar_name=sidecars[1])
        assert run(inbox_runtime, caplog, COUNTS) == NONE | {"refused": 1}
        filed = [name.replace(".", f"{attempt}.", 1) for name in [audio, *sidecars, audio + ".error.json"]]
        assert set(filed) <= set(names_in(inbox / "failed"))
        assert [(inbox / "failed" / name).read_text() for name in filed[1:3]] == [json.dumps(each) for each in metadata]
        reason = json.loads((inbox / "failed" / filed[3]).read_text())
        assert (reason["error"], reason["field"]) == ("ambiguous_sidecar", "metadata")
        assert all(name in reason["message"] for name in sidecars)
        assert all(each["external_call_id"] not in json.dumps(reason) for each in metadata)
    assert names_in(inbox) == ["failed"]
    assert all(calls_with(session, each["external_call_id"]) == 0 for each in metadata)


def test_two_sidecars_named_alike_wait_while_young(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop(inbox, "a.wav", STEREO, call_metadata())
    drop(inbox, "a.wav", STEREO, call_metadata(), sidecar_name="a.wav.JSON", age_s=1)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"waiting": 1}
    assert names_in(inbox) == ["a.wav", "a.wav.JSON", "a.wav.json"]


def test_a_folder_named_as_a_sidecar_is_no_sidecar(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder `x.wav.json` beside `x.wav` is ignored: x.wav waits for its sidecar, here `x.json`, and the folder
    stays where it is."""
    drop(inbox, "x.wav", STEREO, None)
    (inbox / "x.wav.json").mkdir()
    (inbox / "x.wav.json" / "inside.json").write_text("{}")
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"waiting": 1}
    metadata = call_metadata()
    (inbox / "x.json").write_text(json.dumps(metadata))
    os.utime(inbox / "x.json", (time.time() - 60,) * 2)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert names_in(inbox) == ["done", "x.wav.json"] and names_in(inbox / "x.wav.json") == ["inside.json"]


def test_a_sidecar_replaced_by_a_folder_after_the_scan_is_not_filed(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: a folder that took a sidecar's name (`x.wav.json`) between the scan and the import was read
    as x.wav's sidecar: the pair was refused and the folder, with what it held, moved into failed/. It is passed
    over, x.wav waits for its real sidecar, and the folder stays where it is."""
    metadata = call_metadata()
    drop(inbox, "x.wav", STEREO, metadata)
    scan = inbox_module.scan_inbox

    def scanned_then_replaced(settings: Settings, **options: object) -> inbox_module.InboxScan:
        found = scan(settings, **options)  # type: ignore[arg-type]
        (inbox / "x.wav.json").replace(inbox.parent / "x.wav.json")  # as the operator's unzip, meanwhile
        (inbox / "x.wav.json").mkdir()
        (inbox / "x.wav.json" / "inside.json").write_text("{}")
        os.utime(inbox / "x.wav.json", (time.time() - 60,) * 2)  # as old as the audio: only its kind tells
        return found

    monkeypatch.setattr(inbox_module, "scan_inbox", scanned_then_replaced)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"taken": 1}
    monkeypatch.undo()
    assert names_in(inbox) == ["x.wav", "x.wav.json"] and names_in(inbox / "x.wav.json") == ["inside.json"]
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"waiting": 1}
    shutil.move(inbox.parent / "x.wav.json", inbox / "x.json")
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1


def test_a_short_sidecar_beside_a_full_one_still_describes_another_audio_file(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """`a.json` beside `a.wav` with its own `a.wav.json` and `a.mp3` with none is a.mp3's: no guess, both import."""
    metadata = [call_metadata(), call_metadata()]
    drop(inbox, "a.wav", STEREO, metadata[0])
    drop(inbox, "a.mp3", STEREO, metadata[1], sidecar_name="a.json")
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 2}
    assert all(calls_with(session, each["external_call_id"]) == 1 for each in metadata)
    assert names_in(inbox) == ["done"]


def test_a_note_names_a_file_whose_name_is_not_utf8_readably(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by an exploratory pass: a Latin-1 name from an SMB share (`amb\\xe9.json`, Python's `amb\\udce9.json`)
    was quoted in the note as `amb\\udce9.json`, which the operator cannot read and strict JSON parsers refuse."""
    latin1 = os.fsdecode(b"amb\xe9")
    drop(inbox, latin1 + ".wav", STEREO, call_metadata(), sidecar_name=latin1 + ".json")
    drop(inbox, latin1 + ".mp3", STEREO, None)
    assert run(inbox_runtime, caplog, COUNTS)["refused"] == 1
    note = (inbox / "failed" / (latin1 + ".json.error.json")).read_bytes()
    message = json.loads(note)["message"]
    assert message.startswith("amb\\xe9.json fits amb\\xe9.mp3 and amb\\xe9.wav"), message
    assert "\\ud" not in note.decode("ascii")  # no lone surrogate escaped in the JSON either
