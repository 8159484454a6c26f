"""The inbox as operators and several jobs processes meet it: repeated names, unreadable drops, a store outage,
and another process importing the same folder."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from jobs.ingest import import_inbox
from recordings_service.calls import inbox as inbox_module
from recordings_service.calls import inbox_filing
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import Invalid
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.factories.inbox import calls_with, drop, run, wait_until_waiting_for_the_lock, with_inbox
from tests.factories.recordings import STEREO, call_metadata
from tests.live_server import free_port


def test_a_name_dropped_again_is_filed_beside_the_earlier_one_not_over_it(
    runtime: Runtime, tmp_path: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing: operators' names repeat (`call1.wav` every day); filing the second drop
    replaced the first, and in failed/ that was the only copy of a call never imported."""
    inbox = tmp_path / "inbox"
    importer = with_inbox(runtime, inbox)
    first, second = STEREO.read_bytes(), STEREO.read_bytes()[:-1600]
    drop(inbox, "call1.wav", first, call_metadata(colour="red"))
    assert run(importer, caplog)["refused"] == 1
    drop(inbox, "call1.wav", second, call_metadata(direction="sideways"))
    assert run(importer, caplog)["refused"] == 1
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "call1.wav",
        "call1.wav.error.json",
        "call1.wav.json",
        "call1~1.wav",
        "call1~1.wav.error.json",
        "call1~1.wav.json",
    ]
    assert (failed / "call1.wav").read_bytes() == first
    assert json.loads((failed / "call1.wav.error.json").read_text())["field"] == "colour"
    assert (failed / "call1~1.wav").read_bytes() == second
    assert json.loads((failed / "call1~1.wav.error.json").read_text())["field"] == "direction"
    # Imported ones too, a sidecar named without the audio's extension alike.
    for metadata in (call_metadata(), call_metadata()):
        drop(inbox, "call2.wav", STEREO, None)
        (inbox / "call2.json").write_text(json.dumps(metadata))
        os.utime(inbox / "call2.json", (time.time() - 60,) * 2)
        assert run(importer, caplog)["imported"] == 1
        assert calls_with(session, metadata["external_call_id"]) == 1
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "call2.json",
        "call2.wav",
        "call2.wav.receipt.json",
        "call2~1.json",
        "call2~1.wav",
        "call2~1.wav.receipt.json",
    ]


def test_a_drop_that_cannot_be_opened_is_refused_naming_the_file_not_raised(
    settings: Settings, runtime: Runtime, tmp_path: Path, session: Session
) -> None:
    """Found by exploratory testing: a file the jobs process could not open (one written by another account with
    mode 600, say; here a socket put in its place after the scan) raised out of the job, every run, and the drops
    behind it, oldest first, were never imported."""
    inbox = tmp_path / "inbox"
    importer = with_inbox(runtime, inbox)
    drop(inbox, "locked.wav", STEREO, call_metadata())
    [pair] = inbox_module.scan_inbox(importer.settings, now=utcnow()).ready
    pair.audio.unlink()
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(pair.audio))
        with pytest.raises(Invalid) as refused:
            inbox_module.import_pair(session, runtime.store, runtime.envelope, settings=importer.settings, pair=pair)
    assert (refused.value.field, refused.value.code) == ("audio", "unreadable")
    assert "locked" not in refused.value.message and "No such device" in refused.value.message
    inbox_filing.settle_pair(importer.settings, pair, refused.value)
    reason = json.loads((inbox / "failed" / "locked.wav.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("unreadable", "audio")


def test_drops_wait_in_the_inbox_while_the_store_is_unreachable(
    runtime: Runtime, base_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing: during an object-store outage every ready pair was filed under failed/
    (`unavailable`), and the operator had to find and drop each again; they now wait for the next run."""
    inbox = tmp_path / "inbox"
    unreachable = replace(base_settings, s3_endpoint=f"http://127.0.0.1:{free_port()}")
    dead_store = S3ObjectStore(make_client(unreachable), unreachable.s3_bucket)
    importer = with_inbox(replace(runtime, store=dead_store), inbox)
    drop(inbox, "a.wav", STEREO, call_metadata())
    drop(inbox, "b.wav", STEREO, call_metadata(), age_s=30)
    assert run(importer, caplog, ("imported", "refused")) == {"imported": 0, "refused": 0}
    assert sorted(p.name for p in inbox.iterdir()) == ["a.wav", "a.wav.json", "b.wav", "b.wav.json"]
    assert run(importer, caplog, ("deferred",)) == {"deferred": 2}  # the log tells the operator why they wait
    assert run(with_inbox(runtime, inbox), caplog)["imported"] == 2


def test_a_pair_another_jobs_process_is_importing_is_passed_over(
    runtime: Runtime, tmp_path: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing: jobs processes sharing the inbox each took the pairs of their own scan; both
    probed and stored a pair, and the later one crashed moving files the other had filed, leaving its other pairs."""
    inbox = tmp_path / "inbox"
    importer = with_inbox(runtime, inbox)
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, metadata)
    other_process = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY)  # the lock, as another process holds it
    fcntl.flock(other_process, fcntl.LOCK_EX)
    caplog.clear()
    job = threading.Thread(target=import_inbox, args=(importer,))
    try:
        job.start()
        wait_until_waiting_for_the_lock(inbox, job)
        assert (inbox / "a.wav").exists() and not (inbox / "done").exists()
        # Meanwhile the other process files the pair it imported.
        (inbox / "done").mkdir()
        for name in ("a.wav", "a.wav.json"):
            (inbox / name).replace(inbox / "done" / name)
    finally:
        os.close(other_process)
        job.join(timeout=60)
    record = next(r for r in caplog.records if r.getMessage() == "inbox imported")
    assert (record.taken, record.imported, record.refused) == (1, 0, 0)  # type: ignore[attr-defined]
    assert calls_with(session, metadata["external_call_id"]) == 0  # this process stored nothing


def test_the_error_file_lists_every_invalid_field_of_the_sidecar(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing: the error file named the first invalid field only, where the API lists each;
    the operator fixed one, dropped the pair again, and learnt of the next."""
    inbox = tmp_path / "inbox"
    drop(inbox, "bad.wav", STEREO, call_metadata(colour="red", language="de", notice_given="yes"))
    assert run(with_inbox(runtime, inbox), caplog)["refused"] == 1
    reason = json.loads((inbox / "failed" / "bad.wav.error.json").read_text())
    assert reason["errors"][0] == {"field": reason["field"], "error": reason["error"], "message": reason["message"]}
    assert {(each["field"], each["error"]) for each in reason["errors"]} == {
        ("colour", "unknown_field"),
        ("language", "invalid_choice"),
        ("notice_given", "wrong_type"),
    }


def test_a_sidecar_that_fits_two_audio_files_is_filed_saying_so(
    runtime: Runtime, tmp_path: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by exploratory testing: `a.json` beside `a.wav` and `a.mp3` waited unseen; a day later both audio files
    were filed as having no sidecar, and after them the sidecar as having no audio. It is now filed at once, naming
    both, and the audio waits for sidecars named after it."""
    inbox = tmp_path / "inbox"
    importer = with_inbox(runtime, inbox)
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, None)
    drop(inbox, "a.mp3", STEREO, None)
    (inbox / "a.json").write_text(json.dumps(metadata))
    os.utime(inbox / "a.json", (time.time() - 60,) * 2)
    assert run(importer, caplog) == {"imported": 0, "already_imported": 0, "refused": 1, "waiting": 2}
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["a.json", "a.json.error.json"]
    reason = json.loads((inbox / "failed" / "a.json.error.json").read_text())
    assert (reason["error"], reason["field"]) == ("ambiguous_sidecar", "metadata")
    assert "a.mp3 and a.wav" in reason["message"] and "a.mp3.json" in reason["message"]
    # Renamed after its audio file, it is imported with it.
    (inbox / "failed" / "a.json").replace(inbox / "a.wav.json")
    os.utime(inbox / "a.wav.json", (time.time() - 60,) * 2)
    assert run(importer, caplog)["imported"] == 1
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert (inbox / "a.mp3").exists()  # still waiting for its own
