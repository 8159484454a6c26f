"""The inbox job: audio + JSON sidecar pairs imported to done/, refused to failed/ with a reason."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import shutil
import struct
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls import inbox as inbox_module
from recordings_service.db import utcnow
from recordings_service.models import Recording
from recordings_service.originals import original_bytes
from recordings_service.privacy.deletion import delete_recording
from recordings_service.runtime import Runtime
from recordings_service.storage.spool import spool_dir
from tests.factories.inbox import calls_with, drop, run
from tests.factories.recordings import MONO, STEREO, TEST_ACTOR, call_metadata


def test_pairs_are_imported_and_moved_to_done(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, metadata)
    assert run(inbox_runtime, caplog) == {"imported": 1, "already_imported": 0, "refused": 0, "waiting": 0}
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.wav", "a.wav.json", "a.wav.receipt.json"]
    assert calls_with(session, metadata["external_call_id"]) == 1
    receipt = json.loads((inbox / "done" / "a.wav.receipt.json").read_text())
    # Found by a backfill pass: the receipt said neither when the sweep deletes the call nor whether it is kept.
    assert receipt["status"] == "stored" and receipt["retain_until"] > utcnow().isoformat()
    # Dropping the same call again is a no-op.
    drop(inbox, "a.wav", STEREO, metadata)
    assert run(inbox_runtime, caplog)["already_imported"] == 1
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert not (inbox / "a.wav").exists()


def test_a_folder_copied_into_the_inbox_is_said_in_the_log_and_left_alone(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing of the inbox: a day's calls copied in as a folder (`2026-12-05/a.wav`) waited
    there for good, counted nowhere, and nothing told the operator. Hidden folders (the importer's own) are not
    counted; the folder's name is not logged (it may name a site or a customer)."""
    drop(inbox / "site-Kuopio-2026-12-05", "a.wav", STEREO, call_metadata())
    (inbox / ".partial-copies").mkdir()
    drop(inbox, "b.wav", STEREO, call_metadata())

    assert run(inbox_runtime, caplog)["imported"] == 1

    [said] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert said.getMessage() == "inbox holds folders it does not import: drop the files themselves"
    assert said.folders == 1  # type: ignore[attr-defined]
    assert "Kuopio" not in str(said.__dict__)
    assert sorted(p.name for p in (inbox / "site-Kuopio-2026-12-05").iterdir()) == ["a.wav", "a.wav.json"]


def test_a_sidecar_named_without_the_audio_extension_is_accepted(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = call_metadata()
    drop(inbox, "b.wav", STEREO, None)
    (inbox / "b.json").write_text(json.dumps(metadata))
    moment = time.time() - 60
    for name in ("b.wav", "b.json"):
        os.utime(inbox / name, (moment, moment))
    assert run(inbox_runtime, caplog) == {"imported": 1, "already_imported": 0, "refused": 0, "waiting": 0}
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["b.json", "b.wav", "b.wav.receipt.json"]
    assert calls_with(session, metadata["external_call_id"]) == 1


def test_young_files_and_files_without_partner_wait(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop(inbox, "young.wav", STEREO, call_metadata(), age_s=2)
    drop(inbox, "lonely.wav", STEREO, None)
    (inbox / "sidecar-first.wav.json").write_text("{}")
    (inbox / ".partial.wav").write_bytes(b"being copied")  # hidden: a writer's temporary name, not counted
    assert run(inbox_runtime, caplog) == {"imported": 0, "already_imported": 0, "refused": 0, "waiting": 3}
    assert {p.name for p in inbox.iterdir()} >= {"young.wav", "young.wav.json", "lonely.wav"}


def test_a_file_whose_partner_never_comes_is_filed_under_failed_after_a_day(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by exploratory testing: an audio file without its sidecar waited in the inbox for ever, and nobody
    learnt that the call was never imported. After a day it goes to failed/ saying what never came."""
    a_day = inbox_module.ORPHAN_AFTER_S
    drop(inbox, "lonely.wav", STEREO, None)
    (inbox / "no-audio.wav.json").write_text(json.dumps(call_metadata()))
    dropped = utcnow()
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: dropped + timedelta(seconds=a_day - 600))
    assert run(inbox_runtime, caplog, ("orphaned", "waiting")) == {"orphaned": 0, "waiting": 2}
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: dropped + timedelta(seconds=a_day + 60))
    assert run(inbox_runtime, caplog, ("orphaned", "waiting")) == {"orphaned": 2, "waiting": 0}
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "lonely.wav",
        "lonely.wav.error.json",
        "no-audio.wav.json",
        "no-audio.wav.json.error.json",
    ]
    lonely = json.loads((failed / "lonely.wav.error.json").read_text())
    assert lonely["error"] == "no_partner" and "lonely.wav.json" in lonely["message"]
    assert json.loads((failed / "no-audio.wav.json.error.json").read_text())["field"] == "audio"


@pytest.mark.parametrize(
    ("audio", "metadata", "field", "code"),
    [
        (STEREO, call_metadata(colour="red"), "colour", "unknown_field"),
        (MONO, call_metadata(), "channel_layout", "layout_mismatch"),
        (b"\x00" * 4000, call_metadata(), "audio", "unsupported_audio"),
    ],
    ids=["unknown-field", "stereo-on-mono", "not-audio"],
)
def test_refused_pairs_go_to_failed_with_the_reason(
    inbox_runtime: Runtime,
    inbox: Path,
    caplog: pytest.LogCaptureFixture,
    audio: Path | bytes,
    metadata: dict[str, Any],
    field: str,
    code: str,
) -> None:
    drop(inbox, "bad.wav", audio, metadata)
    assert run(inbox_runtime, caplog)["refused"] == 1
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == ["bad.wav", "bad.wav.error.json", "bad.wav.json"]
    reason = json.loads((failed / "bad.wav.error.json").read_text())
    assert (reason["field"], reason["error"]) == (field, code)


def test_same_call_with_other_audio_is_refused_as_a_conflict(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = call_metadata()
    drop(inbox, "first.wav", STEREO, metadata)
    drop(inbox, "second.wav", STEREO.read_bytes()[:-1600], metadata, age_s=30)
    assert run(inbox_runtime, caplog) == {"imported": 1, "already_imported": 0, "refused": 1, "waiting": 0}
    reason = json.loads((inbox / "failed" / "second.wav.error.json").read_text())
    assert reason["error"] == "conflict"


def test_summary_log_line_carries_counts_only(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop(inbox, "agent-7-cust-123.wav", STEREO, call_metadata())
    run(inbox_runtime, caplog)
    for record in caplog.records:
        assert "agent-7" not in record.getMessage()
        assert all("agent-7" not in str(value) for value in record.__dict__.values())


IN_ACCESS, IN_OPEN = 0x1, 0x20


class FileEvents:
    """Linux inotify on one directory: which of its files were opened or read (the kernel's own count)."""

    def __init__(self, directory: Path) -> None:
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self._fd >= 0 and self._libc.inotify_add_watch(self._fd, bytes(directory), IN_OPEN | IN_ACCESS) >= 0

    def drain(self) -> list[tuple[str, int]]:
        events: list[tuple[str, int]] = []
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return events
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\0").decode()
                events.append((name, mask))
                offset += 16 + length

    def opens(self, name: str) -> int:
        return sum(1 for event, mask in self.drain() if event == name and mask & IN_OPEN)

    def close(self) -> None:
        os.close(self._fd)


@pytest.mark.parametrize("linked", ["audio", "sidecar"])
def test_a_symlink_in_the_inbox_is_refused_and_its_target_never_read(
    inbox_runtime: Runtime, inbox: Path, tmp_path: Path, session: Session, caplog: pytest.LogCaptureFixture, linked: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    metadata = call_metadata()
    shutil.copyfile(STEREO, outside / "target.wav")
    (outside / "target.json").write_text(json.dumps(metadata))
    drop(inbox, "a.wav", STEREO, metadata)
    if linked == "audio":
        (inbox / "a.wav").unlink()
        (inbox / "a.wav").symlink_to(outside / "target.wav")
    else:
        (inbox / "a.wav.json").unlink()
        (inbox / "a.wav.json").symlink_to(outside / "target.json")
    moment = time.time() - 60
    os.utime(inbox / ("a.wav" if linked == "audio" else "a.wav.json"), (moment, moment), follow_symlinks=False)
    events = FileEvents(outside)
    try:
        assert run(inbox_runtime, caplog) == {"imported": 0, "already_imported": 0, "refused": 1, "waiting": 0}
        assert events.drain() == []  # neither opened nor read
    finally:
        events.close()
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == ["a.wav", "a.wav.error.json", "a.wav.json"]
    moved = failed / ("a.wav" if linked == "audio" else "a.wav.json")
    assert moved.is_symlink()  # the link itself is filed, its target stays where it was
    reason = json.loads((failed / "a.wav.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("symlink", "audio" if linked == "audio" else "metadata")
    assert calls_with(session, metadata["external_call_id"]) == 0


def test_an_oversized_sidecar_is_refused_without_being_read_whole(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop(inbox, "big.wav", STEREO, call_metadata())
    sidecar = inbox / "big.wav.json"
    sidecar.write_bytes(b"{" + b" " * (10 * 1024 * 1024) + b"}")
    moment = time.time() - 60
    os.utime(sidecar, (moment, moment))
    # rchar counts every byte this process's read calls returned, from any file.
    before = read_chars()
    assert run(inbox_runtime, caplog)["refused"] == 1
    assert read_chars() - before < 1024 * 1024
    reason = json.loads((inbox / "failed" / "big.wav.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("too_large", "metadata")


def read_chars() -> int:
    io_counts = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io_counts["rchar"])


def test_the_drop_file_is_opened_once_and_the_stored_original_is_that_copy(
    inbox_runtime: Runtime, inbox: Path, session: Session, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = call_metadata()
    drop(inbox, "once.wav", STEREO, metadata)
    # The spool directory is the whole session's: what earlier tests left there is not this import's.
    spooled_before = set(spool_dir(inbox_runtime.settings).iterdir())
    events = FileEvents(inbox)
    try:
        assert run(inbox_runtime, caplog)["imported"] == 1
        assert events.opens("once.wav") == 1
    finally:
        events.close()
    recording = session.scalars(
        select(Recording).where(Recording.external_call_id == metadata["external_call_id"])
    ).one()
    original = STEREO.read_bytes()
    assert recording.sha256 == hashlib.sha256(original).hexdigest()
    assert b"".join(original_bytes(runtime.store, runtime.envelope, recording, start=0, stop=len(original))) == original
    assert set(spool_dir(inbox_runtime.settings).iterdir()) <= spooled_before  # the private copy is gone


def test_a_call_dropped_again_after_its_deletion_has_a_receipt_saying_so(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a backfill pass: a call erased since, dropped again by a rerun of the migration, got a receipt
    saying `already_imported` alone, and the operator took it for kept."""
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, metadata)
    run(inbox_runtime, caplog)
    recording_id = json.loads((inbox / "done" / "a.wav.receipt.json").read_text())["recording_id"]
    with inbox_runtime.sessions() as deleting:
        delete_recording(deleting, inbox_runtime.store, recording_id=recording_id, reason="erasure", actor=TEST_ACTOR)
        deleting.commit()

    drop(inbox, "a.wav", STEREO, metadata)
    assert run(inbox_runtime, caplog)["already_imported"] == 1

    [again] = [path for path in (inbox / "done").glob("*.receipt.json") if path.name != "a.wav.receipt.json"]
    receipt = json.loads(again.read_text())
    assert (receipt["recording_id"], receipt["status"], receipt["retain_until"]) == (recording_id, "deleted", None)
    # It said `customer_ref` was not applied: the deleted call's customer link went with its deletion.
    assert receipt["metadata_not_applied"] == []
