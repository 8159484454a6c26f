"""An imported call's dropped files leave the inbox's done/ once their keeping time is over; its receipt stays until
the call is deleted.

Found by an exploratory pass over the data subjects' rights: done/ kept every imported call as dropped, its audio
unencrypted and its sidecar naming the customer, for good. An erasure deleted the customer's calls from the store and
left these copies, as the retention sweep did."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from jobs.ingest import reconcile
from recordings_service.calls.inbox_purge import purge_done, purge_failed
from recordings_service.privacy.deletion import delete_recording
from recordings_service.runtime import Runtime
from tests.factories.inbox import drop, run
from tests.factories.recordings import STEREO, TEST_ACTOR, call_metadata

HOUR = 3600
A_YEAR = 365 * 24 * HOUR


def _names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def test_done_keeps_a_calls_files_for_the_keeping_time_then_only_its_receipt(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Copied with `rsync -a`: the files carry last year's date, which must not count as their filing.
    drop(inbox, "old.wav", STEREO, call_metadata(customer_ref="CRM-PURGE-1"), age_s=A_YEAR)
    drop(inbox, "new.wav", STEREO, call_metadata())
    assert run(inbox_runtime, caplog, keys=("imported", "purged")) == {"imported": 2, "purged": 0}
    done = inbox / "done"
    receipts = {"old.wav.receipt.json", "new.wav.receipt.json"}
    assert _names(done) == {"old.wav", "old.wav.json", "new.wav", "new.wav.json"} | receipts

    settings = inbox_runtime.settings  # keeps them 24 hours
    assert purge_done(settings, now=time.time() + 23 * HOUR) == 0
    assert purge_done(settings, now=time.time() + 24 * HOUR + 60) == 4
    assert _names(done) == receipts
    receipt = json.loads((done / "old.wav.receipt.json").read_text())
    assert receipt["recording_id"] and "CRM-PURGE-1" not in json.dumps(receipt)

    # The same name dropped again is filed beside its receipt, never over it.
    drop(inbox, "old.wav", STEREO, call_metadata())
    assert run(inbox_runtime, caplog, keys=("imported",)) == {"imported": 1}
    assert {"old~1.wav", "old~1.wav.receipt.json", "old.wav.receipt.json"} <= _names(done)


def test_the_import_job_removes_them_after_the_keeping_time_it_is_given(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    at_once = replace(inbox_runtime, settings=replace(inbox_runtime.settings, inbox_keep_done_hours=0))
    drop(inbox, "a.wav", STEREO, call_metadata())
    assert run(at_once, caplog, keys=("imported", "purged", "errors")) == {"imported": 1, "purged": 2, "errors": 0}
    assert _names(inbox / "done") == {"a.wav.receipt.json"}


def test_failed_and_what_the_operator_put_in_done_are_left(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refused = call_metadata()
    del refused["queue"]
    drop(inbox, "refused.wav", STEREO, refused)
    assert run(inbox_runtime, caplog, keys=("refused",)) == {"refused": 1}
    (inbox / "done" / "folder").mkdir(parents=True)
    (inbox / "done" / ".hidden").write_bytes(b"")
    (inbox / "done" / "link.wav").symlink_to(inbox / "failed" / "refused.wav")

    assert purge_done(inbox_runtime.settings, now=time.time() + A_YEAR) == 0
    assert _names(inbox / "failed") == {"refused.wav", "refused.wav.json", "refused.wav.error.json"}
    assert _names(inbox / "done") == {"folder", ".hidden", "link.wav"}


@pytest.mark.parametrize(("folder", "purge"), [("done", purge_done), ("failed", purge_failed)], ids=["done", "failed"])
def test_a_link_in_a_filed_folders_place_is_not_followed(
    inbox_runtime: Runtime, inbox: Path, tmp_path: Path, folder: str, purge: Callable[..., int]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.wav").write_bytes(b"operator's")
    inbox.mkdir()
    (inbox / folder).symlink_to(elsewhere)
    assert purge(inbox_runtime.settings, now=time.time() + 10 * A_YEAR) == 0
    assert _names(elsewhere) == {"precious.wav"}


def test_a_deleted_calls_receipt_goes_with_it_and_a_kept_calls_stays(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the derived-copies pass: a receipt is named after the dropped file (telephony systems name it after
    the caller's number) and stayed for good, after its call had been erased or had reached the end of its
    retention."""
    drop(inbox, "0401234567-erased.wav", STEREO, call_metadata())
    drop(inbox, "0409876543-kept.wav", STEREO, call_metadata())
    assert run(inbox_runtime, caplog, keys=("imported",)) == {"imported": 2}
    done = inbox / "done"
    erased = json.loads((done / "0401234567-erased.wav.receipt.json").read_text())["recording_id"]
    (done / "not-a-receipt.receipt.json").write_text("the operator's own note")
    with inbox_runtime.sessions() as session:
        delete_recording(session, inbox_runtime.store, recording_id=erased, reason="erasure", actor=TEST_ACTOR)
        session.commit()

    assert reconciled(inbox_runtime, caplog) == 1
    receipts = {name for name in _names(done) if name.endswith(".receipt.json")}
    assert receipts == {"0409876543-kept.wav.receipt.json", "not-a-receipt.receipt.json"}
    assert reconciled(inbox_runtime, caplog) == 0


def reconciled(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> int:
    """Run the hourly reconcile job once: the receipts it removed, as its summary line logged them."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jobs.ingest"):
        reconcile(runtime)
    record = next(r for r in caplog.records if r.getMessage() == "storage reconciled")
    return int(record.receipts_purged)  # type: ignore[attr-defined]
