"""Nothing refused stays in the inbox's failed/ for good: a call that may not be kept at all (past its retention, or
covered by its customer's erasure) is removed when refused, leaving only the note that says why; anything else
refused goes with its note once failed/'s keeping time is over.

Found by an exploratory pass of a go-live backfill: every refused drop stayed in failed/ unencrypted, its sidecar
naming the customer, out of reach of erasure and retention (39 % of one legacy archive's calls were past their
retention, and an erased customer's archived calls were refused only to be kept there)."""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from recordings_service.calls import inbox as inbox_module
from recordings_service.calls import inbox_filing
from recordings_service.calls.inbox_purge import purge_failed
from recordings_service.privacy import subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.runtime import Runtime
from tests.factories.inbox import drop, run
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.recordings import STEREO, call_metadata

DAY = 24 * 3600
TWO_YEARS_AGO = (datetime.now(UTC) - timedelta(days=730)).isoformat()


def _names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def _after_each_import(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """`then` done as each import ends, refused or not, before the job files the pair."""
    importing = inbox_module.import_pair

    def import_then(*args: Any, **kwargs: Any) -> Any:
        try:
            return importing(*args, **kwargs)
        finally:
            then()

    monkeypatch.setattr(inbox_module, "import_pair", import_then)


def _erased_customer(runtime: Runtime) -> tuple[str, str]:
    """A customer whose erasure was carried out just now: (their ref, the request's id)."""
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        person = customer(session)
        request = subjects.create_request(
            session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=now, now=now
        )
        fulfil_request(session, runtime.store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
        session.commit()
        return person.customer_ref, request.id


def test_a_call_that_may_not_be_kept_is_removed_when_refused_leaving_the_note(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ref, request_id = _erased_customer(inbox_runtime)
    last_week = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    drop(inbox, "0401234567-old.wav", STEREO, call_metadata(started_at=TWO_YEARS_AGO, customer_ref="CRM-OLD-1"))
    drop(inbox, "0409876543-erased.wav", STEREO, call_metadata(started_at=last_week, customer_ref=ref))
    drop(inbox, "no-queue.wav", STEREO, call_metadata(queue=..., customer_ref="CRM-FIXABLE-1"))

    assert run(inbox_runtime, caplog, keys=("refused", "imported")) == {"refused": 3, "imported": 0}

    assert _names(inbox) == {"failed"}
    failed = inbox / "failed"
    # The correctable refusal is filed whole for the operator; the other two leave their notes alone.
    assert _names(failed) == {
        "0401234567-old.wav.error.json",
        "0409876543-erased.wav.error.json",
        "no-queue.wav",
        "no-queue.wav.json",
        "no-queue.wav.error.json",
    }
    past = json.loads((failed / "0401234567-old.wav.error.json").read_text())
    assert (past["error"], past["field"]) == ("past_retention", "started_at") and "removed" in past["removed"]
    erasure = json.loads((failed / "0409876543-erased.wav.error.json").read_text())
    assert (erasure["error"], erasure["field"]) == ("erased", "customer_ref") and request_id in erasure["message"]
    assert "removed" in erasure["removed"]
    fixable = json.loads((failed / "no-queue.wav.error.json").read_text())
    assert "removed" not in fixable
    for note in failed.glob("*.error.json"):
        assert ref not in note.read_text() and "CRM-OLD-1" not in note.read_text()
    # Found by review: the notes alone, named after the caller's number and saying "erased", stayed 30 days; they go
    # with done/'s files (24 hours), the correctable refusal stays.
    settings = inbox_runtime.settings
    assert purge_failed(settings, now=time.time() + 23 * 3600) == 0
    assert purge_failed(settings, now=time.time() + 24 * 3600 + 60) == 2
    assert _names(failed) == {"no-queue.wav", "no-queue.wav.json", "no-queue.wav.error.json"}


def test_a_new_drop_renamed_in_while_the_old_one_was_refused_is_filed_not_removed(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: the files were removed by name, so a telephony system's next `call1.wav` renamed into place
    (its `.partial` copy complete) while the old one was being refused went with it, unread."""
    drop(inbox, "call1.wav", STEREO, call_metadata(started_at=TWO_YEARS_AGO))

    def a_new_drop_arrives() -> None:
        drop(inbox, ".call1.wav.partial", STEREO, call_metadata(external_call_id="the-new-one"))
        (inbox / ".call1.wav.partial").rename(inbox / "call1.wav")
        (inbox / ".call1.wav.partial.json").rename(inbox / "call1.wav.json")

    _after_each_import(monkeypatch, a_new_drop_arrives)
    assert run(inbox_runtime, caplog, keys=("refused",)) == {"refused": 1}

    failed = inbox / "failed"
    assert _names(failed) == {"call1.wav", "call1.wav.json", "call1.wav.error.json"}
    assert json.loads((failed / "call1.wav.json").read_text())["external_call_id"] == "the-new-one"
    assert "removed" not in json.loads((failed / "call1.wav.error.json").read_text())


def test_a_drop_written_over_in_place_while_refused_is_filed_not_removed(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: the files read were told apart by device and inode alone, which `cp new call1.wav.json`
    keeps, writing over the file in place."""
    drop(inbox, "call1.wav", STEREO, call_metadata(started_at=TWO_YEARS_AGO))

    def its_sidecar_is_written_over() -> None:
        (inbox / "call1.wav.json").write_text(json.dumps(call_metadata(external_call_id="the-new-one")))

    _after_each_import(monkeypatch, its_sidecar_is_written_over)
    assert run(inbox_runtime, caplog, keys=("refused",)) == {"refused": 1}
    assert _names(inbox / "failed") == {"call1.wav", "call1.wav.json", "call1.wav.error.json"}


def test_a_note_that_cannot_say_removed_leaves_the_refusal_filed_as_it_was(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: the note was removed before the one saying `removed` was written, so a full disk (or a kill)
    then left no trace of the drop in failed/. A full disk at that one write is faked here (`_write_note` raising
    ENOSPC): a file system filling up at that moment cannot be arranged in a test."""
    drop(inbox, "call1.wav", STEREO, call_metadata(started_at=TWO_YEARS_AGO))
    writing = inbox_filing._write_note

    def disk_full_for_the_removed_note(folder: int, name: str, note: dict[str, object]) -> None:
        if "removed" in note:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        writing(folder, name, note)

    monkeypatch.setattr(inbox_filing, "_write_note", disk_full_for_the_removed_note)
    run(inbox_runtime, caplog, keys=("refused", "errors"))

    failed = inbox / "failed"
    assert _names(failed) == {"call1.wav", "call1.wav.json", "call1.wav.error.json"}
    assert json.loads((failed / "call1.wav.error.json").read_text())["error"] == "past_retention"


def test_failed_keeps_a_refused_item_for_its_keeping_time_then_removes_it_with_its_note(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Copied with `rsync -a`: the files carry last year's date, which must not count as their filing.
    drop(inbox, "refused.wav", STEREO, call_metadata(queue=...), age_s=365 * DAY)
    assert run(inbox_runtime, caplog, keys=("refused",)) == {"refused": 1}
    failed = inbox / "failed"
    filed = {"refused.wav", "refused.wav.json", "refused.wav.error.json"}
    assert _names(failed) == filed
    (failed / "folder").mkdir()
    (failed / ".hidden").write_bytes(b"")
    (failed / "link.wav").symlink_to(inbox / "elsewhere.wav")

    settings = inbox_runtime.settings  # keeps them 30 days
    assert purge_failed(settings, now=time.time() + 29 * DAY) == 0
    assert _names(failed) == filed | {"folder", ".hidden", "link.wav"}
    assert purge_failed(settings, now=time.time() + 30 * DAY + 60) == 3
    assert _names(failed) == {"folder", ".hidden", "link.wav"}


def test_the_import_job_removes_them_after_the_keeping_time_it_is_given(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    at_once = replace(inbox_runtime, settings=replace(inbox_runtime.settings, inbox_keep_failed_days=0))
    drop(inbox, "a.wav", STEREO, call_metadata(queue=...))
    counts = run(at_once, caplog, keys=("refused", "failed_purged", "errors"))
    assert counts == {"refused": 1, "failed_purged": 3, "errors": 0}
    assert _names(inbox / "failed") == set()


def test_a_file_that_cannot_be_removed_is_passed_over_and_the_rest_go(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by an exploratory pass: one file the purge could not remove (`chattr +i`) ended it there, every run, and
    what came after it in failed/ stayed for good."""
    for name in ("a.wav", "b.wav", "c.wav"):
        drop(inbox, name, STEREO, call_metadata(queue=...))
    assert run(inbox_runtime, caplog, keys=("refused",)) == {"refused": 3}
    stuck = inbox / "failed" / "b.wav.json"
    made = subprocess.run(["chattr", "+i", str(stuck)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"no immutable files here: {made.stderr.decode().strip()}")
    try:
        with caplog.at_level(logging.WARNING, logger="recordings_service.calls.inbox_purge"):
            assert purge_failed(inbox_runtime.settings, now=time.time() + 31 * DAY) == 8
        assert _names(inbox / "failed") == {"b.wav.json"}
        [warning] = [record for record in caplog.records if record.getMessage() == "inbox files not purged"]
        assert (warning.folder, warning.files, warning.reason) == ("failed", 1, "EPERM")  # type: ignore[attr-defined]
    finally:
        subprocess.run(["chattr", "-i", str(stuck)], check=True)
