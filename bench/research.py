"""Research package build throughput against the embedded SeaweedFS, in one run.

    .venv/bin/python -m bench.research [--calls 1000] [--seconds 60] [--postgres] [--skip-redacted]

Stores `--calls` calls (`--seconds` of 8 kHz 16-bit mono noise each, encrypted as ingest does, with a
transcript and its redacted twin), selects them all into a batch with the original audio, approves it, and
times the jobs process's build (`jobs.research.build_batches`: per call a re-check and short sessions, the
streamed ZIP through SHA-256 and Tink into a multipart upload, the audit). The baseline, measured in
the same run over the same originals, is a plain decrypt-and-zip copy (Python's zipfile, stored) to a local
file. Prints calls/s, peak RSS of the build (this process; VmHWM reset before it), the package size and the
ratio of the build's rate to the baseline's (goal: at least 0.5 with original audio; the build also uploads
its package, streamed while it is written, which the baseline does not). Then the same with
redacted audio, built cold (every derivative made with ffmpeg) and again warm (derivatives cached).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import secrets
import shutil
import struct
import tempfile
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text, update

from bench.embedded import bench_runtime
from jobs.research import build_batches
from recordings_service.audit import Actor
from recordings_service.db import make_engine, new_id
from recordings_service.models import Recording, ResearchBatch, Transcript
from recordings_service.models.account import Role
from recordings_service.originals import open_original
from recordings_service.redaction.transcripts import redact_transcript
from recordings_service.research.batches import BatchRequest, approve_batch, create_batch
from recordings_service.research.institutes import create_institute
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import CHUNK
from recordings_service.transcript_text import seal_segments
from tests.factories.recordings import store_original

DEFAULT_PG_URL = os.environ.get("CALLVAULT_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CREATOR = Actor(id=None, name="bench-creator", role=Role.COMPLIANCE)
APPROVER = Actor(id=None, name="bench-approver", role=Role.COMPLIANCE)
CALL_DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
RATE = 8000
UPLOAD_THREADS = 8
GOAL = 0.5
SEGMENTS = [
    {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "welcome to northern energy", "words": []},
    {"speaker": "customer", "start": 2.0, "end": 5.0, "text": "my identity code is 131052-308T", "words": []},
    {"speaker": "agent", "start": 5.0, "end": 8.0, "text": "thank you, one moment please", "words": []},
]


def noise_wav(seconds: float) -> bytes:
    """A 16-bit mono PCM WAV of random samples: as incompressible as coded speech."""
    data = os.urandom(int(seconds * RATE) * 2)
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + (b"data" + struct.pack("<I", len(data)) + data)
    )


def seed_calls(runtime: Runtime, *, count: int, audio: bytes, seconds: float) -> None:
    """Encrypt and upload `count` originals (threads), then insert their rows and transcripts."""
    ids = [new_id() for _ in range(count)]
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        stored = list(
            pool.map(
                lambda recording_id: store_original(
                    runtime.store, runtime.envelope, raw=audio, recording_id=recording_id
                ),
                ids,
            )
        )
    said = [{**segment, "avg_logprob": -0.2, "no_speech_prob": 0.0, "suspect": False} for segment in SEGMENTS]
    redacted = redact_transcript(said, "en")
    digest = hashlib.sha256(audio).hexdigest()
    with runtime.sessions() as session:
        for number, (recording_id, (key, wrapped)) in enumerate(zip(ids, stored, strict=True)):
            session.add(
                Recording(
                    id=recording_id, source="bench", external_call_id=recording_id,
                    started_at=CALL_DAY + timedelta(seconds=number), duration_s=seconds, direction="inbound",
                    queue="billing", agent_ref=f"agent-{number % 40}", language="en", channels=1,
                    agent_channel=None, container="wav", codec="pcm_s16le", sample_rate=RATE,
                    size_bytes=len(audio), sha256=digest, storage_key=key, wrapped_data_key=wrapped.wrapped,
                    master_key_id=wrapped.master_key_id, notice_given=True, agreement_made=None,
                    status="transcribed", purposes=["quality_study"], retain_until=CALL_DAY + timedelta(days=900),
                )
            )  # fmt: skip
            transcript = Transcript(recording_id=recording_id, engine="bench", model="bench", language="en")
            session.add(transcript)
            seal_segments(session, transcript, segments=redacted.without_card_data, twin=redacted.twin)
        session.commit()


def approved_batch(runtime: Runtime, *, institute_id: str, audio: str, count: int) -> str:
    now = datetime.now(UTC)
    request = BatchRequest(
        study="Bench study",
        purpose="Throughput of package builds",
        institute_id=institute_id,
        criteria=BatchCriteria.model_validate(
            {"from": date(2026, 11, 1), "to": date(2026, 11, 30), "sample_size": count, "seed": 1}
        ),
        study_end=(now + timedelta(days=30)).date(),
        access_start=now,
        access_end=now + timedelta(days=2),
        audio=audio,
    )
    with runtime.sessions() as session:
        batch = create_batch(session, runtime.envelope, actor=CREATOR, request=request).made
        approve_batch(session, actor=APPROVER, batch_id=batch.id)
        session.commit()
        return batch.id


def timed_build(runtime: Runtime, batch_id: str) -> tuple[float, int, ResearchBatch]:
    """Build the batch; returns wall seconds, peak RSS (bytes) during the build, and the batch."""
    reset_peak = _reset_peak_rss()
    started = time.perf_counter()
    build_batches(runtime, budget_s=24 * 3600)
    wall = time.perf_counter() - started
    peak = _peak_rss() if reset_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with runtime.sessions() as session:
        batch = session.get_one(ResearchBatch, batch_id)
    if batch.state != "ready":
        raise RuntimeError(f"the build ended {batch.state}: {batch.build_error}")
    return wall, peak, batch


def plain_copy(runtime: Runtime, destination: Path) -> tuple[float, int]:
    """The baseline: decrypt each original and add it, stored, to a ZIP file with Python's zipfile."""
    with runtime.sessions() as session:
        recordings = list(session.scalars(select(Recording).order_by(Recording.id)))
    started = time.perf_counter()
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for recording in recordings:
            info = zipfile.ZipInfo(f"calls/{recording.id}/audio.wav", date_time=(2026, 11, 10, 9, 0, 0))
            with (
                open_original(runtime.store, runtime.envelope, recording) as plaintext,
                archive.open(info, "w", force_zip64=True) as out,
            ):
                shutil.copyfileobj(plaintext, out, CHUNK)  # type: ignore[misc]
    return time.perf_counter() - started, destination.stat().st_size


def reset_build(runtime: Runtime, batch_id: str) -> None:
    with runtime.sessions() as session:
        session.execute(
            update(ResearchBatch)
            .where(ResearchBatch.id == batch_id)
            .values(state="approved", build_attempts=0, build_done=0, build_error=None)
        )
        session.commit()


@contextmanager
def database(postgres: bool) -> Iterator[str]:
    """'' (SQLite in the bench's data directory), or a private PostgreSQL schema dropped afterwards."""
    if not postgres:
        yield ""
        return
    name = "bench_research_" + secrets.token_hex(4)
    admin = make_engine(DEFAULT_PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {name}"))
    separator = "&" if "?" in DEFAULT_PG_URL else "?"
    try:
        yield f"{DEFAULT_PG_URL}{separator}options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each call's audio")
    parser.add_argument("--postgres", action="store_true", help=f"use PostgreSQL ({DEFAULT_PG_URL})")
    parser.add_argument("--skip-redacted", action="store_true", help="build the original-audio package only")
    args = parser.parse_args()
    audio = noise_wav(args.seconds)
    with (
        tempfile.TemporaryDirectory(prefix="callvault-bench-") as tmp,
        database(args.postgres) as url,
        bench_runtime(Path(tmp), database_url=url) as runtime,
    ):
        began = time.perf_counter()
        seed_calls(runtime, count=args.calls, audio=audio, seconds=args.seconds)
        print(f"{args.calls} calls of {len(audio) / 1e6:.2f} MB stored in {time.perf_counter() - began:.1f} s")
        with runtime.sessions() as session:
            lab = create_institute(
                session, actor=CREATOR, name="Bench lab", country="FI", agreement_ref="DPA-bench",
                agreement_date=date(2026, 10, 1), contact="lab@example.fi",
            )  # fmt: skip
            session.commit()
            institute_id = lab.id

        base_s, base_size = plain_copy(runtime, Path(tmp) / "plain.zip")
        original = approved_batch(runtime, institute_id=institute_id, audio="original", count=args.calls)
        wall, peak, batch = timed_build(runtime, original)
        base_rate, rate = args.calls / base_s, args.calls / wall
        print(f"baseline   : decrypt + zipfile (stored) {base_rate:.1f} calls/s, {base_size / 1e6:.1f} MB")
        print(
            f"original   : {rate:.1f} calls/s ({wall:.1f} s), peak RSS {peak / 2**20:.0f} MiB,"
            f" package {batch.package_size / 1e6:.1f} MB"  # type: ignore[operator]
        )
        ratio = rate / base_rate
        print(f"ratio      : {ratio:.2f}x of the baseline (goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'})")
        if args.skip_redacted:
            return
        redacted = approved_batch(runtime, institute_id=institute_id, audio="redacted", count=args.calls)
        wall, peak, batch = timed_build(runtime, redacted)
        print(
            f"redacted   : cold (ffmpeg per call) {args.calls / wall:.1f} calls/s ({wall:.1f} s),"
            f" peak RSS {peak / 2**20:.0f} MiB, ratio {args.calls / wall / base_rate:.2f}x"
        )
        reset_build(runtime, redacted)
        wall, peak, batch = timed_build(runtime, redacted)
        print(
            f"redacted   : warm (cached) {args.calls / wall:.1f} calls/s ({wall:.1f} s),"
            f" peak RSS {peak / 2**20:.0f} MiB, ratio {args.calls / wall / base_rate:.2f}x"
        )


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: VmHWM), so the next reading is the build's alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    main()
