"""Plaintext a killed process was working on does not stay on disk: its scratch folder (a decrypted original being
transcribed, an access package or evidence ZIP being assembled) is removed by the reconcile job's purge once no
living process holds it, while a folder in use is left alone.

Found by exploratory testing: `purge_stale_spools` removed only files, so after a `kill -9` the folders
`var/tmp/subject-access-*/package.zip`, `var/tmp/callvault-evidence-*/original` and
`$TMPDIR/callvault-transcribe-*/original` (decrypted voice) stayed for good, past the customer's erasure too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recordings_service.config import Settings
from recordings_service.storage.spool import purge_stale_spools, scratch_dir, spool_dir

# A process that opens a scratch folder, writes plaintext into it, says where, and waits to be killed.
WORKER = r"""
import sys, time
from pathlib import Path
from recordings_service.storage.spool import scratch_dir
parent = Path(sys.argv[2]) if sys.argv[2] else None
with scratch_dir(sys.argv[1], parent=parent) as folder:
    (folder / "original").write_bytes(b"RIFF decrypted voice")
    print(folder, flush=True)
    time.sleep(600)
"""


def _killed_while_working(prefix: str, parent: Path | None) -> Path:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, prefix, str(parent or "")], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    folder = Path(worker.stdout.readline().strip())
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    worker.stdout.close()
    return folder


@pytest.mark.parametrize("where", ["spool folder", "system temporary folder"])
def test_a_killed_processs_scratch_folder_goes_and_one_in_use_stays(settings: Settings, where: str) -> None:
    parent = spool_dir(settings) if where == "spool folder" else None
    left = _killed_while_working("transcribe", parent)
    assert (left / "original").read_bytes().startswith(b"RIFF")
    with scratch_dir("subject-access", parent=parent) as in_use:
        (in_use / "package.zip").write_bytes(b"PK")

        purge_stale_spools(settings, older_than_s=0, now=time.time() + 1)

        assert not left.exists()
        assert (in_use / "package.zip").exists()
    assert not in_use.exists()


@pytest.mark.parametrize("name", ["someone-else-", "callvault-test-logs-"])
def test_the_purge_leaves_other_folders_in_the_temporary_folder(settings: Settings, name: str) -> None:
    """Found when the purge first ran in the suite: it took every `callvault-` folder, the tests' own logs too."""
    with tempfile.TemporaryDirectory(prefix=name) as other:
        purge_stale_spools(settings, older_than_s=0, now=time.time() + 1)
        assert Path(other).exists()


def test_a_recent_scratch_folder_nobody_holds_waits_for_the_grace_period(settings: Settings) -> None:
    left = _killed_while_working("evidence", spool_dir(settings))
    purge_stale_spools(settings, older_than_s=3600, now=time.time())
    assert left.exists()
    purge_stale_spools(settings, older_than_s=3600, now=time.time() + 3601)
    assert not left.exists()


@pytest.mark.parametrize("where", ["spool folder", "system temporary folder"])
def test_a_folder_or_upload_gone_after_the_listing_is_passed_over(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Found by a full run with three workers: a transcription's scratch folder in the temporary folder, removed as
    its work ended between the purge's listing and its look at the folder's age, stopped the purge (and the reconcile
    job that runs it) with FileNotFoundError. The listing is made to name one such folder and one spooled upload that
    went meanwhile: a filesystem race no test can schedule otherwise."""
    parent = spool_dir(settings) if where == "spool folder" else Path(tempfile.gettempdir())
    gone = [parent / "callvault-scratch-transcribe-gone", parent / "upload-gone.part"]
    listing = Path.iterdir

    def listed_before_they_went(folder: Path) -> Iterator[Path]:
        yield from listing(folder)
        if folder == parent:
            yield from gone

    monkeypatch.setattr(Path, "iterdir", listed_before_they_went)
    left = _killed_while_working("transcribe", spool_dir(settings) if where == "spool folder" else None)

    purge_stale_spools(settings, older_than_s=0, now=time.time() + 1)

    assert not left.exists()
