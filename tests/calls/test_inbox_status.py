"""`callvault inbox status`: how far an import has got and why what failed failed, counted without a name.

Found by an exploratory pass of a go-live backfill: the inbox's progress was the import job's counts for one run in
the log, and its failures failed/ listed by hand, where only each note opened one by one said why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from recordings_service.calls.inbox_status import inbox_status
from recordings_service.runtime import Runtime
from tests.factories.inbox import drop, run
from tests.factories.recordings import STEREO, call_metadata
from web import cli

CALLERS_NUMBER = "0401234567"


def _status(inbox: Path, data_dir: Path) -> list[str]:
    environment = {"CALLVAULT_INBOX_DIR": str(inbox), "CALLVAULT_DATA_DIR": str(data_dir)}
    result = CliRunner().invoke(cli.main, ["inbox", "status"], env=environment)
    assert result.exit_code == 0, result.output
    assert CALLERS_NUMBER not in result.output
    return result.output.splitlines()


def test_it_counts_what_waits_what_was_imported_and_failed_by_reason(
    inbox_runtime: Runtime, inbox: Path, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # Keeps the imported calls' files in done/ (24 hours by default), as the status reads them.
    drop(inbox, f"{CALLERS_NUMBER}-1.wav", STEREO, call_metadata())
    drop(inbox, "imported-2.wav", STEREO, call_metadata())
    drop(inbox, f"{CALLERS_NUMBER}-old.wav", STEREO, call_metadata(started_at="2015-01-05T10:00:00+02:00"))
    drop(inbox, "no-queue.wav", STEREO, call_metadata(queue=...))
    drop(inbox, "no-agent.wav", STEREO, call_metadata(agent_ref=...))
    assert run(inbox_runtime, caplog, keys=("imported", "refused")) == {"imported": 2, "refused": 3}
    # Then a new drop that is ready, one still being copied in (too young), and a sidecar without its audio.
    drop(inbox, "ready.wav", STEREO, call_metadata())
    drop(inbox, "copying.wav", STEREO, call_metadata(), age_s=0)
    drop(inbox, "lonely.wav.json", json.dumps(call_metadata()).encode(), None, age_s=0)
    (inbox / "failed" / "not-a-note.error.json").symlink_to(inbox / "ready.wav")  # passed over, never followed

    lines = _status(inbox, tmp_path / "data")

    # The lonely sidecar arrived just now (its change time, which no tool sets back): it waits for its audio; a pair
    # still being copied waits as one item.
    assert lines[0] == "ready=1 waiting=2 to_fail=0 done=4 receipts=2 failed=3"
    assert lines[1:] == [
        "reason\titems\tfiles_removed\tdue",
        "missing\t2\t0\t0",
        "past_retention\t1\t1\t0",
    ]
    # A day later, the sidecar's audio never came: the next run files it under failed/.
    later = inbox_status(inbox_runtime.settings, now=datetime.now(UTC) + timedelta(days=2))
    assert (later.to_fail, later.waiting) == (1, 0)
    # Found by an exploratory pass: what the next run removes could not be told from the rest. The note alone goes
    # after a day, the refusals to correct after 30 days.
    assert {reason: counts.due for reason, counts in later.failed.items()} == {"missing": 0, "past_retention": 1}
    month_later = inbox_status(inbox_runtime.settings, now=datetime.now(UTC) + timedelta(days=31))
    assert {reason: counts.due for reason, counts in month_later.failed.items()} == {"missing": 2, "past_retention": 1}


def test_an_empty_inbox_a_missing_one_and_one_that_cannot_be_listed(inbox: Path, tmp_path: Path) -> None:
    inbox.mkdir()
    (inbox / "failed").mkdir()
    (inbox / "failed" / "odd.error.json").mkdir()  # a folder under a note's name is passed over
    assert _status(inbox, tmp_path / "data") == [
        "ready=0 waiting=0 to_fail=0 done=0 receipts=0 failed=0",
        "reason\titems\tfiles_removed\tdue",
    ]
    # Found by review: a missing inbox (a wrong data directory) read as an empty one, and was made.
    missing = tmp_path / "elsewhere" / "inbox"
    environment = {"CALLVAULT_INBOX_DIR": str(missing), "CALLVAULT_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli.main, ["inbox", "status"], env=environment)
    assert result.exit_code == 1 and f"no inbox at {missing}" in result.output
    assert not (tmp_path / "elsewhere").exists()
    (tmp_path / "elsewhere").mkdir()
    missing.symlink_to(missing)  # a link to itself: listing it fails
    result = CliRunner().invoke(cli.main, ["inbox", "status"], env=environment)
    assert result.exit_code == 1 and f"inbox {missing} not listed: ELOOP" in result.output, result.output


def test_a_note_filed_as_an_item_is_one_item(inbox: Path, tmp_path: Path) -> None:
    """Found by an exploratory pass: a note moved back alone and filed a day later as a stray, with a note of its own,
    was counted as two items, under its old reason and `no_partner`."""
    failed = inbox / "failed"
    failed.mkdir(parents=True)
    (failed / "a.wav.error.json").write_text(json.dumps({"error": "missing", "field": "queue", "message": "m"}))
    (failed / "a.wav.error.json.error.json").write_text(
        json.dumps({"error": "no_partner", "field": "x", "message": "m"})
    )
    assert _status(inbox, tmp_path / "data")[1:] == ["reason\titems\tfiles_removed\tdue", "no_partner\t1\t0\t0"]
