"""Test-only pauses at named steps of an ingest, a transcription, the retention sweep and a research build, so a
fault test can strike exactly there.

Loaded only by `gunicorn_pause.py` (the gunicorn configuration file the fault tests pass with `-c`), by
`transcribe_worker.py` and by `job_worker.py`; nothing in `web/`, `jobs/` or `recordings_service/` imports it,
so production configuration cannot enable it. A test arms one step by writing its name to `<dir>/armed`; the
next request or job that reaches that step consumes the file, writes `<dir>/reached` (step and pid) and waits
until it is killed or the test writes `<dir>/release`.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

STEPS = ("spooled", "stored", "before_commit", "committed")
TRANSCRIPTION_STEPS = ("claimed", "decoding", "before_commit", "committed")
# The retention sweep's steps, in the order a batch meets them: its rows locked, its rows deleted (audit events
# not yet written), everything flushed before the commit, committed (no object gone yet), half of a share of
# object versions deleted, tombstones marked purged before that commit, the receipt and the proof before theirs.
SWEEP_STEPS = ("locked", "tombstoned", "deleted", "committed", "objects_half", "marked", "receipt", "proved")
# The research build's steps: claimed (committed), a call loaded (the upload is open), progress recorded before
# its commit, the package uploaded before it is finished, finished before the commit, and built (committed).
BUILD_STEPS = ("claimed", "loaded", "recorded", "uploaded", "finishing", "built")
PAUSE_S = 120.0


def pause(control: Path, step: str) -> None:
    armed = control / "armed"
    try:
        wanted = armed.read_text()
    except FileNotFoundError:
        return
    if wanted != step:
        return
    armed.unlink(missing_ok=True)
    (control / "reached.tmp").write_text(f"{step} {os.getpid()}")
    (control / "reached.tmp").rename(control / "reached")
    release = control / "release"
    deadline = time.monotonic() + PAUSE_S
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    release.unlink(missing_ok=True)


_seen: Counter[str] = Counter()
_seen_lock = threading.Lock()


def pause_nth(control: Path, step: str) -> None:
    """`pause` for an armed `step@N`: the N-th time this process reaches `step` (a bare `step` is its first)."""
    try:
        wanted = (control / "armed").read_text()
    except FileNotFoundError:
        return
    name, _, nth = wanted.partition("@")
    if name != step:
        return
    with _seen_lock:
        _seen[step] += 1
        hit = _seen[step] == int(nth or 1)
    if hit:
        pause(control, wanted)


Pause = Callable[[Path, str], None]


def release(control: Path) -> None:
    (control / "release").write_text("go")


def _after(control: Path, step: str, function: Callable[..., Any], at: Pause = pause) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        at(control, step)
        return result

    return wrapper


def _before(control: Path, step: str, function: Callable[..., Any], at: Pause = pause) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        at(control, step)
        return function(*args, **kwargs)

    return wrapper


def install_transcription(control: Path) -> None:
    """Wrap the transcription job's seams: claimed, decoding (first progress), before and after the commit."""
    from jobs import transcription

    lease_keeper = transcription._lease_keeper
    secure_call = transcription.secure_call

    def keeper_then_pause(*args: Any, **kwargs: Any) -> Callable[[float], None]:
        return _before(control, "decoding", lease_keeper(*args, **kwargs))

    def secured_then_pause(session: Session, *args: Any, **kwargs: Any) -> Any:
        result = secure_call(session, *args, **kwargs)
        pause(control, "before_commit")  # the transcript is flushed in this session; the job commits next
        event.listen(session, "after_commit", lambda _session: pause(control, "committed"), once=True)
        return result

    transcription._run_one = _before(control, "claimed", transcription._run_one)  # type: ignore[assignment]
    transcription._lease_keeper = keeper_then_pause  # type: ignore[assignment]
    transcription.secure_call = secured_then_pause


def install(control: Path) -> None:
    """Wrap the ingest path's seams: after the spool, after the store put, before and after the commit."""
    from recordings_service.calls import ingest
    from recordings_service.storage.object_store import S3ObjectStore

    ingest_recording = ingest.ingest_recording

    @functools.wraps(ingest_recording)
    def ingest_then_pause(session: Session, *args: Any, **kwargs: Any) -> Any:
        result = ingest_recording(session, *args, **kwargs)
        # The view commits next: pause before it, or once the commit is done (before the response).
        pause(control, "before_commit")
        event.listen(session, "after_commit", lambda _session: pause(control, "committed"), once=True)
        return result

    # The view parses the metadata once the body is spooled.
    ingest.parse_metadata = _before(control, "spooled", ingest.parse_metadata)
    S3ObjectStore.put = _after(control, "stored", S3ObjectStore.put)  # type: ignore[method-assign]
    ingest.ingest_recording = ingest_then_pause


def _flushed_then_committed(control: Path, flushed: str, committed: str, function: Callable[..., Any]) -> Any:
    """`function(session, ...)`, then a pause at `flushed` (the caller commits next) and at `committed` after it."""

    @functools.wraps(function)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        result = function(session, *args, **kwargs)
        pause_nth(control, flushed)
        event.listen(session, "after_commit", lambda _session: pause_nth(control, committed), once=True)
        return result

    return wrapper


def install_sweep(control: Path) -> None:
    """Wrap the retention sweep's seams (SWEEP_STEPS); an armed `step@N` strikes the N-th time a step is met."""
    from jobs import retention
    from recordings_service.privacy import deletion
    from recordings_service.storage.object_store import S3ObjectStore

    delete_versions = S3ObjectStore.delete_versions

    def half_then_pause(self: S3ObjectStore, versions: Any) -> int:
        pending = list(versions)
        half = len(pending) // 2
        done = delete_versions(self, pending[:half])
        pause_nth(control, "objects_half")
        return done + delete_versions(self, pending[half:])

    deletion._erase = _before(control, "locked", deletion._erase, pause_nth)  # type: ignore[assignment]
    deletion.record_events = _before(control, "tombstoned", deletion.record_events, pause_nth)
    retention.delete_due = _flushed_then_committed(control, "deleted", "committed", retention.delete_due)
    S3ObjectStore.delete_versions = half_then_pause  # type: ignore[method-assign]
    retention.mark_purged = _after(control, "marked", retention.mark_purged, pause_nth)
    retention.record_receipt = _after(control, "receipt", retention.record_receipt, pause_nth)
    retention.record_check = _after(control, "proved", retention.record_check, pause_nth)


def install_build(control: Path) -> None:
    """Wrap the research build's seams (BUILD_STEPS); an armed `step@N` strikes the N-th time a step is met."""
    from jobs import research

    research.build_one = _before(control, "claimed", research.build_one, pause_nth)
    research.load_call = _after(control, "loaded", research.load_call, pause_nth)
    research.record_items = _after(control, "recorded", research.record_items, pause_nth)
    research.upload_while_writing = _after(control, "uploaded", research.upload_while_writing, pause_nth)
    research.finish_build = _flushed_then_committed(control, "finishing", "built", research.finish_build)
