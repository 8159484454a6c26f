"""The inbox as the telephony administrator who drops files meets it: names as their tools write them, a filed drop
traced to its recording, one item that cannot be filed, and a bulk drop of thousands."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls import inbox as inbox_module
from recordings_service.config import Settings
from recordings_service.logs import format_exception
from recordings_service.models import Recording
from recordings_service.runtime import Runtime
from tests.factories.inbox import calls_with, drop, run
from tests.factories.recordings import STEREO, call_metadata

FILED = ("imported", "already_imported", "refused", "waiting", "orphaned")
RECEIPTS = ("call1.wav.receipt.json", "call1~1.wav.receipt.json")
COUNTS = (*FILED, "errors")


def recording_of(session: Session, metadata: dict[str, Any]) -> Recording:
    query = select(Recording).where(Recording.external_call_id == metadata["external_call_id"])
    return session.scalars(query).one()


def test_extensions_are_matched_in_any_case(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the administrator: `call1.WAV` with `call1.JSON` (Windows tools and some PBX exports write
    extensions in capitals) waited a day and was then filed under failed/ twice, the sidecar as audio without one."""
    pairs = {
        "c1.WAV": "c1.JSON",
        "c2.wav": "c2.Json",
        "c3.wav": "c3.WAV.json",
        "c4.Wav": "c4.wav.JSON",
    }
    metadata = {audio: call_metadata() for audio in pairs}
    for audio, sidecar in pairs.items():
        drop(inbox, audio, STEREO, metadata[audio], sidecar_name=sidecar)
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"imported": 4}
    done = {path.name for path in (inbox / "done").iterdir()}
    assert done >= {*pairs, *pairs.values()}
    assert all(calls_with(session, each["external_call_id"]) == 1 for each in metadata.values())
    # A capitalised sidecar whose audio never came is filed as one: what never came is the audio.
    drop(inbox, "lonely.wav", STEREO, call_metadata(), sidecar_name="lonely.WAV.JSON")
    (inbox / "lonely.wav").unlink()
    a_day_later = datetime.now(UTC) + timedelta(seconds=inbox_module.ORPHAN_AFTER_S + 60)
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: a_day_later)
    assert run(inbox_runtime, caplog, FILED)["orphaned"] == 1
    reason = json.loads((inbox / "failed" / "lonely.WAV.JSON.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("no_partner", "audio")


def test_a_filed_drop_has_a_receipt_naming_its_recording(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the administrator: done/ held the files but not which recording each became, so a drop could not be
    traced to the call a supervisor was looking at."""
    metadata = call_metadata()
    drop(inbox, "call1.wav", STEREO, metadata)
    before = datetime.now(UTC).replace(microsecond=0)
    assert run(inbox_runtime, caplog)["imported"] == 1
    recording = recording_of(session, metadata)
    receipt = json.loads((inbox / "done" / "call1.wav.receipt.json").read_text())
    assert receipt.keys() == {
        *("recording_id", "sha256", "filed_at", "status", "retain_until", "already_imported", "metadata_not_applied")
    }
    assert receipt["recording_id"] == recording.id
    assert receipt["sha256"] == hashlib.sha256(STEREO.read_bytes()).hexdigest()
    assert before <= datetime.fromisoformat(receipt["filed_at"]) <= datetime.now(UTC)
    # The same call dropped again under the same name: filed beside the first, naming the same recording.
    drop(inbox, "call1.wav", STEREO, metadata)
    assert run(inbox_runtime, caplog)["already_imported"] == 1
    assert sorted(path.name for path in (inbox / "done").iterdir()) == [
        "call1.wav",
        "call1.wav.json",
        "call1.wav.receipt.json",
        "call1~1.wav",
        "call1~1.wav.json",
        "call1~1.wav.receipt.json",
    ]
    again = json.loads((inbox / "done" / "call1~1.wav.receipt.json").read_text())
    assert again["recording_id"] == recording.id


def test_an_item_that_cannot_be_filed_does_not_stop_the_run(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the administrator: one pair that could not be moved (here failed/ is a file, as a mistaken copy
    leaves it) raised out of the job, every 30 s at the same pair, oldest first, and no drop behind it was imported.
    It now stays in the inbox for the next run, logged without its name, and the others go on."""
    drop(inbox, "agent-7-cust-123.wav", STEREO, call_metadata(colour="red"), age_s=120)
    good = call_metadata()
    drop(inbox, "b.wav", STEREO, good)
    (inbox / "failed").write_bytes(b"")
    assert run(inbox_runtime, caplog, COUNTS) == dict.fromkeys(COUNTS, 0) | {"imported": 1, "errors": 1}
    assert calls_with(session, good["external_call_id"]) == 1
    assert (inbox / "done" / "b.wav.receipt.json").exists()
    [folder, warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert folder.getMessage() == "inbox folder is not a folder, nothing can be filed there"
    assert warning.getMessage() == "inbox item not filed" and warning.exc_info is not None
    error = warning.exc_info[1]
    assert error is not None
    written = [logging.Formatter().format(warning), format_exception(error), str(warning.__dict__)]
    assert all("agent-7" not in text and "cust-123" not in text for text in written)
    assert "Not a directory (filing under failed/)" in written[1]
    # Once failed/ is a folder again, the next run files the pair that waited.
    (inbox / "failed").unlink()
    assert run(inbox_runtime, caplog, COUNTS) == dict.fromkeys(COUNTS, 0) | {"refused": 1}
    reason = json.loads((inbox / "failed" / "agent-7-cust-123.wav.error.json").read_text())
    assert reason["field"] == "colour"


def test_a_pair_imported_but_not_moved_is_filed_by_a_later_run(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, metadata)
    (inbox / "done").write_bytes(b"")
    assert run(inbox_runtime, caplog, COUNTS)["errors"] == 1
    assert calls_with(session, metadata["external_call_id"]) == 1  # committed before the move
    assert (inbox / "a.wav").exists() and (inbox / "a.wav.json").exists()
    (inbox / "done").unlink()
    assert run(inbox_runtime, caplog, COUNTS) == dict.fromkeys(COUNTS, 0) | {"already_imported": 1}
    receipt = json.loads((inbox / "done" / "a.wav.receipt.json").read_text())
    assert receipt["recording_id"] == recording_of(session, metadata).id


def calls_made(action: Callable[[], object]) -> int:
    """How many Python and built-in functions `action` called: its work, counted without a clock."""
    count = 0

    def profile(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def test_scanning_a_bulk_drop_takes_work_in_proportion_to_its_size(base_settings: Settings, tmp_path: Path) -> None:
    """Found by the administrator: each sidecar was matched against every name in the inbox, so 1,000 pairs took
    10 s to scan and 3,000 pairs 100 s, every run. Twice the pairs now take about twice the work."""

    def inbox_of(pairs: int) -> Settings:
        folder = tmp_path / f"inbox-{pairs}"
        folder.mkdir()
        moment = time.time() - 60
        for index in range(pairs):
            for name in (f"call{index}.wav", f"call{index}.json"):
                (folder / name).write_bytes(b"")
                os.utime(folder / name, (moment, moment))
        return replace(base_settings, inbox_dir=str(folder))

    small, large = inbox_of(50), inbox_of(100)
    now = datetime.now(UTC)
    assert len(inbox_module.scan_inbox(large, now=now).ready) == 100
    work = [calls_made(partial(inbox_module.scan_inbox, settings, now=now)) for settings in (small, large)]
    assert work[1] < 2.5 * work[0]


def test_a_name_too_long_for_its_receipt_or_error_file_is_filed_under_a_shorter_one(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploring the inbox: `<name>.error.json` beside a name of 245 bytes or more (a sidecar may have 255)
    is longer than a file name may be, so a refused drop with such a name raised out of the job every run, and so
    would every receipt. Such a drop is filed as `<shorter>~1.wav`, with its note, each name fitting."""
    metadata = call_metadata()
    imported, refused = "ä" * 123 + ".wav", "ö" * 123 + ".wav"  # 250 bytes; their sidecars 255
    drop(inbox, imported, STEREO, metadata)
    drop(inbox, refused, STEREO, call_metadata(colour="red"))
    assert run(inbox_runtime, caplog, COUNTS) == dict.fromkeys(COUNTS, 0) | {"imported": 1, "refused": 1}
    filed = {}
    for folder, letter, note in (("done", "ä", ".receipt.json"), ("failed", "ö", ".error.json")):
        names = {os.fsencode(path.name): path for path in (inbox / folder).iterdir()}
        stem = next(iter(names)).decode().split("~1.")[0]
        assert stem.strip(letter) == ""
        assert {name.decode() for name in names} == {f"{stem}~1.wav", f"{stem}~1.wav.json", f"{stem}~1.wav{note}"}
        assert max(len(name) for name in names) == 255
        filed[folder] = json.loads((inbox / folder / f"{stem}~1.wav{note}").read_text())
    assert filed["done"]["recording_id"] == recording_of(session, metadata).id
    assert filed["failed"]["field"] == "colour"


def test_a_file_filed_by_another_jobs_process_during_the_scan_is_passed_over(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by exploring the inbox: the scan read each file's age after listing the folder, and a file that another
    jobs process sharing the inbox filed in between (or the operator took back) raised out of the scan, with its
    name, so that this process imported nothing that run."""
    taken, kept = call_metadata(), call_metadata()
    drop(inbox, "taken.wav", STEREO, taken, age_s=120)
    drop(inbox, "kept.wav", STEREO, kept)
    listing = os.scandir

    def listed_then_taken(path: Path) -> Any:
        entries = list(listing(path))
        if Path(path) != inbox or (inbox / "elsewhere").exists():
            return iter(entries)
        (inbox / "elsewhere").mkdir()
        for name in ("taken.wav", "taken.wav.json"):
            (inbox / name).replace(inbox / "elsewhere" / name)  # as the other process files them, meanwhile
        return iter(entries)

    monkeypatch.setattr(os, "scandir", listed_then_taken)
    assert run(inbox_runtime, caplog, COUNTS) == dict.fromkeys(COUNTS, 0) | {"imported": 1}
    assert calls_with(session, kept["external_call_id"]) == 1 and calls_with(session, taken["external_call_id"]) == 0


def test_a_file_copied_with_its_old_time_is_not_taken_for_one_whose_partner_never_came(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by exploring the inbox: a day was counted from the file's modification time, which `rsync -a`, `cp -p`
    and unzip carry over from the source. Yesterday's calls copied in that way (the sidecar first, the audio under a
    hidden name until complete, as the README advises) had the sidecar filed at once as having no audio, and then
    the audio as having no sidecar. A day now counts from the file's arrival in the inbox."""
    metadata = call_metadata()
    two_days_s = 2 * inbox_module.ORPHAN_AFTER_S
    drop(inbox, "call1.wav", STEREO, metadata, age_s=two_days_s)
    (inbox / "call1.wav").replace(inbox / ".call1.wav.partial")  # still being copied
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"waiting": 1}
    (inbox / ".call1.wav.partial").replace(inbox / "call1.wav")
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1
    # A partner that never comes is still waited for a day from the arrival, and no longer.
    drop(inbox, "lonely.wav", STEREO, None, age_s=two_days_s)
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"waiting": 1}
    a_day_later = datetime.now(UTC) + timedelta(seconds=inbox_module.ORPHAN_AFTER_S + 60)
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: a_day_later)
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"orphaned": 1}
    assert (inbox / "failed" / "lonely.wav.error.json").exists()


NOT_UTF8 = "the sidecar is not UTF-8 text ({}); save it as UTF-8 and drop the pair again"


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("latin-1", NOT_UTF8.format("byte 0xE4 at line 3 column 20 is not UTF-8")),
        ("utf-16", NOT_UTF8.format("it is UTF-16 text, as Windows PowerShell's > writes it")),
        ("empty", "the sidecar is empty; drop the pair again with the call's metadata in it"),
        ("bom-only", "the sidecar is empty; drop the pair again with the call's metadata in it"),
    ],
    ids=["legacy-code-page", "powershell-utf16", "empty", "bom-only"],
)
def test_a_sidecar_that_is_empty_or_not_utf8_is_refused_saying_so(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    encoding: str,
    message: str,
) -> None:
    """Found by exploratory testing: a sidecar saved in a legacy code page (`ä` as one byte) was refused as "Invalid
    JSON: invalid unicode code point at line 1 column 24", one written by Windows PowerShell's `>` (UTF-16) as
    "Invalid JSON: expected value at line 1 column 1", and an empty one as "EOF while parsing a value": the operator
    looked for a typing error in a file that looked right in every editor. The note says what the file is and where,
    never what it holds."""
    metadata = call_metadata(queue="myynti-pääkaupunkiseutu")
    text = json.dumps(metadata, ensure_ascii=False)
    text = text.replace(', "queue"', ',\n\n "queue"')
    drop(inbox, "c1.wav", STEREO, None)
    empty = {"empty": b"", "bom-only": b"\xef\xbb\xbf \r\n"}
    raw = empty[encoding] if encoding in empty else text.encode(encoding)
    (inbox / "c1.wav.json").write_bytes(raw)
    os.utime(inbox / "c1.wav.json", (time.time() - 60,) * 2)
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"refused": 1}
    reason = json.loads((inbox / "failed" / "c1.wav.error.json").read_text())
    assert (reason["error"], reason["field"], reason["message"]) == ("invalid_json", "metadata", message)
    assert reason["errors"] == [{"field": "metadata", "error": "invalid_json", "message": message}]
    # Saved as UTF-8, with the metadata in it, as the note says, it is imported.
    (inbox / "failed" / "c1.wav").replace(inbox / "c1.wav")
    (inbox / "c1.wav.json").write_text(text, encoding="utf-8")
    os.utime(inbox / "c1.wav.json", (time.time() - 60,) * 2)
    assert run(inbox_runtime, caplog, FILED) == dict.fromkeys(FILED, 0) | {"imported": 1}
    assert recording_of(session, metadata).queue == "myynti-pääkaupunkiseutu"


def test_a_corrected_sidecar_dropped_with_a_call_already_imported_gets_a_receipt_saying_so(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing: the same audio dropped again with a corrected sidecar (another queue) is the call
    already stored, and its metadata is not applied; its receipt was that of a fresh import, and the operator took the
    correction for made."""
    metadata = call_metadata()
    drop(inbox, "call1.wav", STEREO, metadata)
    assert run(inbox_runtime, caplog)["imported"] == 1
    drop(inbox, "call1.wav", STEREO, metadata | {"queue": "support"})
    assert run(inbox_runtime, caplog)["already_imported"] == 1
    first, again = (json.loads((inbox / "done" / name).read_text()) for name in RECEIPTS)
    assert (first["already_imported"], again["already_imported"]) == (False, True)
    assert (first["metadata_not_applied"], again["metadata_not_applied"]) == ([], ["queue"])
    assert first["recording_id"] == again["recording_id"] == recording_of(session, metadata).id
    assert recording_of(session, metadata).queue == "sales"
