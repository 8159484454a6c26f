"""Factories for the drop-folder inbox: a runtime with its own inbox, files dropped into it, the import job's counts."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs.ingest import import_inbox
from recordings_service.models import Recording
from recordings_service.runtime import Runtime

COUNTS = ("imported", "already_imported", "refused", "waiting")


def with_inbox(runtime: Runtime, inbox: Path) -> Runtime:
    """`runtime` importing from `inbox` (a test's own, not the session's data directory's)."""
    return replace(runtime, settings=replace(runtime.settings, inbox_dir=str(inbox)))


def drop(
    inbox: Path,
    name: str,
    audio: Path | bytes,
    metadata: dict[str, Any] | None,
    *,
    age_s: float = 60,
    sidecar_name: str | None = None,
) -> None:
    """`name` and its sidecar `sidecar_name` (`name.json` by default; none when `metadata` is None), last written
    `age_s` ago."""
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / name
    if isinstance(audio, Path):
        shutil.copyfile(audio, target)
    else:
        target.write_bytes(audio)
    paths = [target]
    if metadata is not None:
        sidecar = inbox / (sidecar_name or name + ".json")
        sidecar.write_text(json.dumps(metadata))
        paths.append(sidecar)
    moment = time.time() - age_s
    for path in paths:
        os.utime(path, (moment, moment))


def run(runtime: Runtime, caplog: pytest.LogCaptureFixture, keys: tuple[str, ...] = COUNTS) -> dict[str, int]:
    """Run the import job once; the counts its summary line logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jobs.ingest"):
        import_inbox(runtime)
    record = next(r for r in caplog.records if r.getMessage() == "inbox imported")
    return {key: getattr(record, key) for key in keys}


def calls_with(session: Session, external_call_id: str) -> int:
    query = select(func.count()).select_from(Recording).where(Recording.external_call_id == external_call_id)
    return session.scalar(query) or 0


def wait_until_waiting_for_the_lock(inbox: Path, thread: threading.Thread, *, timeout_s: float = 20) -> None:
    """Until a process waits for the inbox's lock (the kernel lists the waiter in /proc/locks); fails when `thread`
    ends first (it did not wait) or after `timeout_s`."""
    inode = f":{os.stat(inbox).st_ino} "
    deadline = time.monotonic() + timeout_s
    while not any("-> FLOCK" in line and inode in line for line in Path("/proc/locks").read_text().splitlines()):
        assert thread.is_alive() and time.monotonic() < deadline, "the job did not wait for the inbox's lock"
        time.sleep(0.05)


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno == logging.WARNING]
