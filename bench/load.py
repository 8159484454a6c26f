"""The web under load: QA supervisors and ingest clients against gunicorn on PostgreSQL, for a bounded time.

    .venv/bin/python -m bench.load [--calls 10000] [--users 50] [--ingest-clients 10] [--duration 300]
        [--workers 2] [--threads 4] [--database-url postgresql+psycopg://...]

Creates a fresh database on the PostgreSQL server of `--database-url`, starts an embedded SeaweedFS,
bulk-loads `--calls` transcribed calls with their search index (bench.search's loader) and gives 200 of them,
spread over the rest, real encrypted audio (the English stereo fixture, sealed for each call's own id as
ingest seals it), transcripts as the pipeline keeps them and the waveform peaks the jobs process caches. Then
it starts gunicorn on `web.wsgi:app` as `callvault run` does (gthread workers, its keep-alive; the jobs process
is not started, so ingested calls wait for transcription and nothing else competes for the CPU) and runs Locust
headless (bench/load_users.py) on loopback: `--users` QA supervisors sign in with password and TOTP, list and
search calls, open a call with audio and fetch what its page fetches (waveform peaks, the transcript through the
API, audio ranges while listening), and score one call in five; `--ingest-clients` telephony clients post the
fixture through the ingest API.

Prints requests/s, p50/p95/p99 and errors per request kind, the gunicorn workers' RSS and CPU, and the goal
checks: no errors, p95 < 300 ms for every page and read, worker RSS growth <= 10 % from the end of the
ramp-up to the end of the run (the first requests of a fresh worker import and compile what it serves; that
is no leak). Drops the database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, make_url, select, text, update

from bench.embedded import bench_runtime
from bench.search import seed
from recordings_service import accounts
from recordings_service.calls.waveform import cached_peaks
from recordings_service.db import make_engine
from recordings_service.evaluations.scoring import answer_field
from recordings_service.models import Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.models.evaluation import AnswerType
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import seal_segments, segments_of
from tests.factories.accounts import PASSWORD, enrol_seed, make_user
from tests.factories.evaluations import seeded_form
from tests.factories.recordings import STEREO, ingest_file, make_token, store_original
from tests.live_server import REPO, LiveServer, live_server
from web.supervisor import WEB_OPTIONS, WEB_THREADS, WEB_WORKERS

DEFAULT_URL = os.environ.get("CALLVAULT_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PLAYABLE = 200  # calls with real audio; the rest have transcripts and search entries only
UPLOAD_THREADS = 4
RAMP_UP_S = 10.0  # every simulated person has started within this
SAMPLE_EVERY_S = 2.0
RSS_WINDOW_S = 30.0
GOAL_P95_MS = 300.0
GOAL_RSS_GROWTH = 0.10
JUDGED_KINDS = ("page", "read")  # the kinds the p95 goal is about (sign-in hashes a password on purpose)


@contextmanager
def private_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of `server_url`, dropped afterwards; yields its URL.

    A database, not a schema as the other benches use: the bulk loader ends with a VACUUM ANALYZE of the whole
    database, which would wait on, and then work through, whatever else that database holds.
    """
    name = "bench_load_" + secrets.token_hex(4)
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def give_audio(runtime: Runtime, calls: int) -> list[str]:
    """Real encrypted audio for up to PLAYABLE of the seeded calls, spread over them; their ids.

    One fixture ingested through the service tells the media facts (codec, duration, size, digest) the rows
    then carry; each call's copy is sealed for its own id, since the id is the ciphertext's associated data.
    """
    with runtime.sessions() as session:
        probed = ingest_file(session, runtime.store, runtime.envelope, runtime.settings, path=STEREO).recording
        facts = {
            name: getattr(probed, name)
            for name in ("duration_s", "channels", "agent_channel", "container", "codec", "sample_rate", "size_bytes")
        } | {"sha256": probed.sha256}
        session.commit()
    raw = STEREO.read_bytes()
    step = max(1, calls // PLAYABLE)
    ids = [f"R{number:025d}" for number in range(0, calls, step)][:PLAYABLE]

    def with_audio(recording_id: str) -> dict[str, Any]:
        key, original = store_original(runtime.store, runtime.envelope, raw=raw, recording_id=recording_id)
        return {
            "id": recording_id,
            "storage_key": key,
            "storage_version_id": original.version_id,
            "wrapped_data_key": original.wrapped_data_key,
            "master_key_id": original.master_key_id,
            **facts,
        }

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        rows = list(pool.map(with_audio, ids))
    with runtime.sessions() as session:
        session.execute(update(Recording), rows)
        # Their transcripts as the pipeline keeps them: every field a reader gets, sealed under the call's key.
        for transcript in session.scalars(select(Transcript).where(Transcript.recording_id.in_(ids))):
            full = [as_transcribed(segment) for segment in segments_of(session, transcript)]
            seal_segments(session, transcript, segments=full, twin=None)
        session.commit()
        # And their waveform peaks, which the jobs process caches after transcribing a call.
        for recording in session.scalars(select(Recording).where(Recording.id.in_(ids))):
            cached_peaks(session, runtime.store, runtime.envelope, recording=recording)
        session.commit()
    return ids


def as_transcribed(segment: dict[str, Any]) -> dict[str, Any]:
    """A seeded segment with what the engine adds: word timings (spread evenly) and trust signals."""
    words = segment["text"].split()
    step = (segment["end"] - segment["start"]) / len(words)
    timed = [
        {"start": round(segment["start"] + n * step, 2), "end": round(segment["start"] + (n + 1) * step, 2),
         "text": word, "probability": 0.9}
        for n, word in enumerate(words)
    ]  # fmt: skip
    return segment | {"words": timed, "avg_logprob": -0.25, "no_speech_prob": 0.02, "suspect": False}


def write_plan(
    runtime: Runtime, path: Path, *, supervisors: int, ingest_clients: int, playable: list[str], summary: Path
) -> None:
    """The accounts, token and form the simulated people use, and where their figures go (bench/load_users.py)."""
    with runtime.sessions() as session:
        password_hash = accounts.hash_password(PASSWORD)  # hashed once: it is slow on purpose
        people = []
        for number in range(supervisors):
            user = make_user(session, role=Role.QA_SUPERVISOR, username=f"load-qa-{number:03d}")
            user.password_hash = password_hash
            secret = enrol_seed(user, runtime.envelope)
            address = f"10.77.{number // 250}.{number % 250 + 1}"
            people.append({"username": user.username, "secret": secret, "address": address})
        form = seeded_form(session)
        answers = {
            answer_field(question.id): "5" if question.answer_type == AnswerType.SCALE_1_5 else "yes"
            for question in form.questions
        }
        plan = {
            "supervisor_count": supervisors,
            "ingest_count": ingest_clients,
            "supervisors": people,
            "password": PASSWORD,
            "ingest_token": make_token(session),  # commits
            "ingest_audio": str(STEREO),
            "playable_ids": playable,
            "form_id": form.id,
            "answers": answers,
            "summary_path": str(summary),
        }
    path.write_text(json.dumps(plan))


@dataclass
class WorkerSample:
    """The gunicorn workers at one moment: resident memory and CPU seconds used so far, by pid."""

    at_s: float
    rss: dict[int, int]
    cpu_s: dict[int, float]
    # What a slow request may be waiting for: the machine's CPU (busy share since the last sample, all cores)
    # and the database (its sessions running a statement, and those of them waiting for a lock, by lock kind).
    machine_busy: float = 0.0
    db_active: int = 0
    db_lock_waits: dict[str, int] = field(default_factory=dict)

    @property
    def total_rss(self) -> int:
        return sum(self.rss.values())


# The statement's first words name what waits (e.g. "UPDATE audit_chain_head"); the values are bound apart.
DB_ACTIVITY = text(
    "SELECT wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity"
    " WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
)


def watch_workers(server: LiveServer, engine: Engine, samples: list[WorkerSample], stop: threading.Event) -> None:
    """Sample every gunicorn worker, the machine's CPU and the database's sessions until `stop`."""
    began = time.monotonic()
    psutil.cpu_percent()
    while True:
        with engine.connect() as connection:
            activity = connection.execute(DB_ACTIVITY).all()
        lock_waits = Counter(
            f"{event} in {' '.join(query.split()[:3])}" for kind, event, query in activity if kind == "Lock"
        )
        rss, cpu_s = {}, {}
        for pid in server.workers():
            try:
                process = psutil.Process(pid)
                rss[pid] = process.memory_info().rss
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            cpu_s[pid] = times.user + times.system
        samples.append(
            WorkerSample(
                time.monotonic() - began,
                rss,
                cpu_s,
                machine_busy=psutil.cpu_percent() / 100,
                db_active=len(activity),
                db_lock_waits=dict(lock_waits),
            )
        )
        if stop.wait(SAMPLE_EVERY_S):
            return


def mean_rss(samples: list[WorkerSample], from_s: float, to_s: float) -> float:
    """The mean total RSS of the samples taken between the two moments (the last sample if none was)."""
    within = [sample.total_rss for sample in samples if from_s <= sample.at_s <= to_s] or [samples[-1].total_rss]
    return sum(within) / len(within)


def run_locust(server: LiveServer, plan: Path, log: Path, *, people: int, duration_s: int) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", "bench/load_users.py", "--headless",
        "--users", str(people), "--spawn-rate", f"{max(1.0, people / RAMP_UP_S):.1f}",
        "--run-time", f"{duration_s}s", "--host", f"http://127.0.0.1:{server.port}",
        "--only-summary", "--stop-timeout", "10",
    ]  # fmt: skip
    # Its exit status is 1 whenever a request failed: the summary bench/load_users.py writes tells which.
    with log.open("wb") as output:
        subprocess.run(
            command,
            cwd=REPO,
            env=os.environ | {"CALLVAULT_LOAD_PLAN": str(plan)},
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=duration_s + 120,
            check=False,
        )


def report(summary: dict[str, Any], samples: list[WorkerSample]) -> None:
    *requests, total = summary["requests"]
    print(f"\n{'request':40} {'count':>7} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for row in [*sorted(requests, key=lambda row: row["name"]), total | {"name": "all"}]:
        print(
            f"{row['name']:40} {row['count']:7} {row['errors']:6} {row['rps']:7.1f}"
            f" {row['p50']:7.0f} {row['p95']:7.0f} {row['p99']:7.0f}"
        )
    for error in summary["errors"]:
        print(f"  error x{error['count']}: {error['request']}: {error['error']}")

    start, end = samples[0], samples[-1]
    # Means over a window, so that one request's passing allocation (a waveform being computed) does not decide.
    after_ramp_up = mean_rss(samples, RAMP_UP_S, RAMP_UP_S + RSS_WINDOW_S)
    at_the_end = mean_rss(samples, end.at_s - RSS_WINDOW_S, end.at_s)
    mib = 1024 * 1024
    print(
        f"\nworker RSS (MiB, all workers): {start.total_rss / mib:.0f} at the start; mean {after_ramp_up / mib:.0f}"
        f" over {RAMP_UP_S:.0f}-{RAMP_UP_S + RSS_WINDOW_S:.0f} s, mean {at_the_end / mib:.0f} over the last"
        f" {RSS_WINDOW_S:.0f} s of {end.at_s:.0f} s; per worker at the end:"
        f" {', '.join(f'{rss / mib:.0f}' for rss in end.rss.values())}"
    )
    if set(end.rss) != set(start.rss):
        print(f"  workers were replaced during the run: {sorted(start.rss)} -> {sorted(end.rss)}")
    # What the web tier costs whatever else shares the machine: capacity is about cores / CPU per request.
    worker_cpu_s = sum(used - start.cpu_s.get(pid, 0.0) for pid, used in end.cpu_s.items())
    print(
        f"worker CPU: {worker_cpu_s:.1f} s over {end.at_s:.0f} s ({worker_cpu_s / end.at_s:.2f} cores),"
        f" {worker_cpu_s * 1000 / max(total['count'], 1):.0f} ms a request on average"
    )
    loaded = [sample for sample in samples if sample.at_s >= RAMP_UP_S] or samples
    waits: Counter[str] = Counter()
    for sample in loaded:
        waits.update(sample.db_lock_waits)
    busiest = ", ".join(f"{kind} {count / len(loaded):.1f}" for kind, count in waits.most_common(3)) or "none"
    print(
        f"machine CPU after the ramp-up: {sum(sample.machine_busy for sample in loaded) / len(loaded):.0%} busy"
        f" ({os.cpu_count()} cores; {sum(sample.machine_busy >= 0.95 for sample in loaded)} of {len(loaded)}"
        f" samples at 95 % or more); database sessions running a statement: mean"
        f" {sum(sample.db_active for sample in loaded) / len(loaded):.1f}, waiting for a lock: mean"
        f" {sum(waits.values()) / len(loaded):.1f} (by lock: {busiest})"
    )

    judged = [row for row in requests if row["name"].split(" ")[0] in JUDGED_KINDS]
    slowest = max(judged, key=lambda row: row["p95"])
    growth = at_the_end / after_ramp_up - 1
    print("\ngoals:")
    print(f"  errors: {total['errors']} (goal 0): {'met' if total['errors'] == 0 else 'NOT met'}")
    print(
        f"  p95 of pages and reads: worst {slowest['name']} {slowest['p95']:.0f} ms (goal < {GOAL_P95_MS:.0f} ms):"
        f" {'met' if slowest['p95'] < GOAL_P95_MS else 'NOT met'}"
    )
    print(
        f"  worker RSS growth after the ramp-up: {growth:+.1%} (goal <= {GOAL_RSS_GROWTH:.0%}):"
        f" {'met' if growth <= GOAL_RSS_GROWTH else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50, help="simulated QA supervisors")
    parser.add_argument("--ingest-clients", type=int, default=10)
    parser.add_argument("--duration", type=int, default=300, help="seconds of load, ramp-up included")
    parser.add_argument("--workers", type=int, default=WEB_WORKERS)
    parser.add_argument("--threads", type=int, default=WEB_THREADS)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a database on the server to create one beside")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="callvault-bench-") as tmp,
        private_database(args.database_url) as database_url,
        bench_runtime(Path(tmp), database_url=database_url) as runtime,
    ):
        root = Path(tmp)
        print(f"seeding {args.calls} transcribed calls", flush=True)
        print(f"seeded in {seed(runtime.engine, args.calls):.1f} s", flush=True)
        runtime.engine.dispose()  # the loader leaves its pooled connection in autocommit (for VACUUM)
        began = time.perf_counter()
        playable = give_audio(runtime, args.calls)
        print(f"{len(playable)} calls given real audio in {time.perf_counter() - began:.1f} s", flush=True)
        plan, summary, log = root / "plan.json", root / "summary.json", root / "locust.log"
        people = {"supervisors": args.users, "ingest_clients": args.ingest_clients}
        write_plan(runtime, plan, **people, playable=playable, summary=summary)
        print(
            f"{args.users} supervisors and {args.ingest_clients} ingest clients for {args.duration} s against"
            f" gunicorn {args.workers} workers x {args.threads} threads",
            flush=True,
        )
        with live_server(
            runtime.settings,
            workers=args.workers,
            threads=args.threads,
            options=WEB_OPTIONS,
            env={"CALLVAULT_TRUSTED_PROXIES": "1"},
        ) as server:
            samples: list[WorkerSample] = []
            stop = threading.Event()
            watcher = threading.Thread(target=watch_workers, args=(server, runtime.engine, samples, stop))
            watcher.start()
            try:
                run_locust(server, plan, log, people=args.users + args.ingest_clients, duration_s=args.duration)
            finally:
                stop.set()
                watcher.join()
        if not summary.exists():
            raise SystemExit(f"Locust wrote no summary; its output:\n{log.read_text()}")
        report(json.loads(summary.read_text()), samples)


if __name__ == "__main__":
    main()
