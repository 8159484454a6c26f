"""The inbox over many runs: an item that fails unexpectedly run after run, a filed item the operator moves back
into the inbox to try it again, and a note of the importer's back without its item."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service.calls import inbox as inbox_module
from recordings_service.calls import inbox_attempts
from recordings_service.calls.inbox import ORPHAN_AFTER_S
from recordings_service.runtime import Runtime
from tests.factories.inbox import calls_with, drop, run
from tests.factories.recordings import STEREO, call_metadata

COUNTS = ("imported", "already_imported", "refused", "waiting", "orphaned", "taken", "errors")
NONE = dict.fromkeys(COUNTS, 0)


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def move_back(inbox: Path, folder: str, names: list[str]) -> None:
    """As the operator retries an item: its files, its note among them, moved from `folder` into the inbox."""
    for name in names:
        (inbox / folder / name).replace(inbox / name)


def test_an_item_failing_unexpectedly_run_after_run_is_filed_under_failed(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: a pair that failed unexpectedly (here a bug: its import raises) stayed in the inbox and was
    retried every 30 s with a warning, for ever, until an operator stepped in. After `MAX_ATTEMPTS` runs in a row it
    is filed under failed/, its note pointing to the jobs log, not quoting the error (which may quote the file). (An
    unreachable database is no such failure: the pairs wait for it, see test_inbox_faults.py.)"""

    def fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(inbox_module, "import_pair", fails)
    failing = inbox_runtime
    metadata = call_metadata()
    audio, sidecar, note = "agent-7-cust-123.wav", "agent-7-cust-123.wav.json", "agent-7-cust-123.wav.error.json"
    drop(inbox, audio, STEREO, metadata)
    for _ in range(inbox_attempts.MAX_ATTEMPTS - 1):
        assert run(failing, caplog, COUNTS) == NONE | {"errors": 1}
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == ["inbox item not filed"]
    assert {audio, sidecar} <= set(names_in(inbox))
    assert run(failing, caplog, COUNTS) == NONE  # no longer left in the inbox, counted under errors
    summary = next(record for record in caplog.records if record.getMessage() == "inbox imported")
    assert summary.given_up == 1  # type: ignore[attr-defined]
    assert names_in(inbox) == [".callvault", "failed"]
    # The counts are kept on disk, beside the inbox, without the operator's file names.
    state = (inbox / inbox_attempts.STATE).read_text()
    assert "agent-7" not in state and "cust-123" not in state
    assert names_in(inbox / "failed") == [audio, note, sidecar]
    reason = json.loads((inbox / "failed" / note).read_text())
    assert (reason["error"], reason["field"]) == ("not_filed", None)
    assert f"after {inbox_attempts.MAX_ATTEMPTS} attempts" in reason["message"] and "jobs log" in reason["message"]
    written = (inbox / "failed" / note).read_text()
    assert all(
        secret not in written for secret in ("agent-7", "cust-123", metadata["external_call_id"], "RuntimeError")
    )
    # Moved back while the fault lasts, it is counted afresh, not filed at its first failure again.
    move_back(inbox, "failed", [audio, sidecar, note])
    assert run(failing, caplog, COUNTS) == NONE | {"errors": 1}
    # Once the fault is mended, it is imported, and its old note is not left behind.
    monkeypatch.undo()
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert names_in(inbox) == [".callvault", "done", "failed"]
    assert names_in(inbox / "failed") == []
    assert names_in(inbox / "done") == [audio, sidecar, "agent-7-cust-123.wav.receipt.json"]


def test_a_refused_pair_moved_back_with_its_error_file_is_filed_alone(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: the operator fixed a refused sidecar and moved the whole group back from failed/, its
    `.error.json` too, which was then taken for a sidecar with no audio: left in the inbox, and a day later filed
    under failed/ as `no_partner`. A note the importer wrote is no sidecar; the pair's retry removes it."""
    drop(inbox, "call1.wav", STEREO, call_metadata(colour="red"))
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"refused": 1}
    metadata = call_metadata()
    (inbox / "failed" / "call1.wav.json").write_text(json.dumps(metadata))  # fixed
    os.utime(inbox / "failed" / "call1.wav.json", (time.time() - 60,) * 2)
    move_back(inbox, "failed", ["call1.wav", "call1.wav.json", "call1.wav.error.json"])
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert names_in(inbox) == ["done", "failed"]
    assert names_in(inbox / "done") == ["call1.wav", "call1.wav.json", "call1.wav.receipt.json"]
    # A filed pair moved back with its receipt, as to import it again, is filed again with a fresh receipt.
    move_back(inbox, "done", ["call1.wav", "call1.wav.json", "call1.wav.receipt.json"])
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"already_imported": 1}
    assert names_in(inbox) == ["done", "failed"]
    # And a day later nothing is filed as having no partner.
    a_day_later = datetime.now(UTC) + timedelta(seconds=ORPHAN_AFTER_S + 60)
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: a_day_later)
    assert run(inbox_runtime, caplog, COUNTS) == NONE
    assert names_in(inbox / "failed") == []


def test_a_note_left_without_its_item_is_filed_a_day_after_it_came(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: a note the importer wrote, back in the inbox without its item (copied back alone, or the
    audio renamed), was neither counted nor moved, ever, and the inbox never emptied. It waits a day, as a file
    without its partner does, and is then filed under failed/ saying which item never came, a receipt too: done/
    holds calls imported, each receipt beside its audio."""
    drop(inbox, "x.wav", STEREO, call_metadata(colour="red"))
    drop(inbox, "y.wav", STEREO, call_metadata())
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"refused": 1, "imported": 1}
    shutil.copy(inbox / "failed" / "x.wav.error.json", inbox)
    shutil.copy(inbox / "done" / "y.wav.receipt.json", inbox)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"waiting": 2}
    a_day_later = datetime.now(UTC) + timedelta(seconds=ORPHAN_AFTER_S + 60)
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: a_day_later)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"orphaned": 2}
    assert names_in(inbox) == ["done", "failed"]
    # Numbered as its item, beside the original note still in failed/: a name ending `.error~1.json` is a sidecar's.
    assert names_in(inbox / "failed") == [
        "x.wav",
        "x.wav.error.json",
        "x.wav.json",
        "x~1.wav.error.json",
        "x~1.wav.error.json.error.json",
        "y.wav.receipt.json",
        "y.wav.receipt.json.error.json",
    ]
    assert (inbox / "failed" / "x~1.wav.error.json").read_text() == (inbox / "failed" / "x.wav.error.json").read_text()
    for item, note in (("x.wav", "x~1.wav.error.json"), ("y.wav", "y.wav.receipt.json")):
        reason = json.loads((inbox / "failed" / (note + ".error.json")).read_text())
        assert (reason["error"], reason["field"]) == ("no_partner", "audio")
        assert f"no {item} was beside it" in reason["message"]
    assert run(inbox_runtime, caplog, COUNTS) == NONE


def test_a_note_whose_item_comes_back_is_not_filed_alone(
    inbox_runtime: Runtime,
    inbox: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A day-old note is filed only while its item is not beside it: its item back, the pair's retry removes it."""
    drop(inbox, "x.wav", STEREO, call_metadata(colour="red"))
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"refused": 1}
    move_back(inbox, "failed", ["x.wav.error.json"])
    a_day_later = datetime.now(UTC) + timedelta(seconds=ORPHAN_AFTER_S + 60)
    monkeypatch.setattr("jobs.ingest.utcnow", lambda: a_day_later)
    metadata = call_metadata()
    drop(inbox, "x.wav", STEREO, metadata)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert calls_with(session, metadata["external_call_id"]) == 1
    assert names_in(inbox) == ["done", "failed"]
    assert names_in(inbox / "done") == ["x.wav", "x.wav.json", "x.wav.receipt.json"]
