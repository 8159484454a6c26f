"""The inbox's own folders not as they should be: the inbox itself a file or a folder that cannot be listed, and a
file where `done/` or `failed/` should be."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service.calls.inbox import ORPHAN_AFTER_S
from recordings_service.logs import format_exception
from recordings_service.runtime import Runtime
from tests.factories.inbox import calls_with, drop, names_in, run, warnings_of, with_inbox
from tests.factories.recordings import STEREO, call_metadata

COUNTS = ("imported", "already_imported", "refused", "waiting", "orphaned", "taken", "errors", "given_up")
NONE = dict.fromkeys(COUNTS, 0)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("a-file", "ENOTDIR"), ("under-a-file", "ENOTDIR"), ("a-link-to-itself", "ELOOP")],
)
def test_an_inbox_that_cannot_be_listed_stops_the_run_with_one_warning(
    runtime: Runtime, tmp_path: Path, session: Session, caplog: pytest.LogCaptureFixture, kind: str, reason: str
) -> None:
    """Found by review: an inbox path that is a regular file (or under one, or a link that cannot be followed) raised
    out of the job from its mkdir or listing before any item, a traceback naming the path every 30 s. The run stops
    with one warning naming the errno, never the path, counted once under errors; fixed, the next run imports."""
    site = tmp_path / "site-acme-inbox"
    inbox = site / "calls" if kind == "under-a-file" else site
    if kind == "a-link-to-itself":
        site.symlink_to(site)
    else:
        site.write_bytes(b"")
    importer = with_inbox(runtime, inbox)

    assert run(importer, caplog, COUNTS) == NONE | {"errors": 1}
    [warning] = warnings_of(caplog)
    assert (warning.getMessage(), warning.reason, warning.exc_info) == (  # type: ignore[attr-defined]
        "inbox not listed, run stopped",
        reason,
        None,
    )
    assert all("acme" not in text for text in (logging.Formatter().format(warning), str(warning.__dict__)))

    site.unlink()
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, metadata)
    assert run(importer, caplog, COUNTS) == NONE | {"imported": 1}
    assert warnings_of(caplog) == [] and calls_with(session, metadata["external_call_id"]) == 1


@pytest.mark.parametrize("folder", ["done", "failed"])
def test_a_file_named_as_a_filing_folder_is_no_drop_and_is_left_alone(
    inbox_runtime: Runtime,
    inbox: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    folder: str,
) -> None:
    """Found by review: a regular file named `done` or `failed` in the inbox, where the folders should be, counted as
    a drop (`waiting`), and a day later it would have been filed itself, as partnerless. Each run warns of it, naming
    the folder, and leaves it where it is."""
    inbox.mkdir()
    (inbox / folder).write_bytes(b"the operator's")
    for later_s in (0, ORPHAN_AFTER_S + 60):
        moment = datetime.now(UTC) + timedelta(seconds=later_s)
        monkeypatch.setattr("jobs.ingest.utcnow", lambda moment=moment: moment)
        assert run(inbox_runtime, caplog, COUNTS) == NONE
        [warning] = warnings_of(caplog)
        assert warning.getMessage() == "inbox folder is not a folder, nothing can be filed there"
        assert warning.folder == folder  # type: ignore[attr-defined]
        assert names_in(inbox) == [folder] and (inbox / folder).read_bytes() == b"the operator's"


def test_pairs_are_filed_in_the_other_folder_while_one_is_a_file(
    inbox_runtime: Runtime, inbox: Path, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """A file named `failed` stops nothing that would be filed under done/: the pair imports, the warning stays."""
    metadata = call_metadata()
    drop(inbox, "a.wav", STEREO, metadata)
    (inbox / "failed").write_bytes(b"")
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"imported": 1}
    assert [record.getMessage() for record in warnings_of(caplog)] == [
        "inbox folder is not a folder, nothing can be filed there"
    ]
    assert names_in(inbox) == ["done", "failed"] and names_in(inbox / "done") == [
        "a.wav",
        "a.wav.json",
        "a.wav.receipt.json",
    ]
    assert calls_with(session, metadata["external_call_id"]) == 1


@pytest.mark.parametrize("folder", ["done", "failed"])
def test_a_link_in_place_of_a_filing_folder_is_not_followed(
    inbox_runtime: Runtime,
    inbox: Path,
    tmp_path: Path,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    folder: str,
) -> None:
    """Found by exploratory testing: a link `done` → elsewhere, which whoever may write to the inbox can make, was
    warned of as "not a folder, nothing can be filed there", and then the importer filed the operator's calls, and
    wrote its receipts, wherever it pointed. Nothing is filed through it: the pair waits in the inbox, as it does
    beside a file of that name, and is filed once the folder is a folder again."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    metadata = call_metadata() if folder == "done" else call_metadata(colour="red")
    drop(inbox, "a.wav", STEREO, metadata)
    (inbox / folder).symlink_to(elsewhere, target_is_directory=True)
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {"errors": 1}
    assert [record.getMessage() for record in warnings_of(caplog)] == [
        "inbox folder is not a folder, nothing can be filed there",
        "inbox item not filed",
    ]
    error = warnings_of(caplog)[1].exc_info[1]  # type: ignore[index]
    assert error is not None and f"Not a directory (filing under {folder}/)" in format_exception(error)
    assert names_in(elsewhere) == []
    assert {"a.wav", "a.wav.json"} <= set(names_in(inbox))
    (inbox / folder).unlink()
    outcome = "already_imported" if folder == "done" else "refused"
    assert run(inbox_runtime, caplog, COUNTS) == NONE | {outcome: 1}
    assert "a.wav.json" in names_in(inbox / folder) and names_in(elsewhere) == []
    assert calls_with(session, metadata["external_call_id"]) == (1 if folder == "done" else 0)
