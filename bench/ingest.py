"""Ingest throughput over HTTP against raw S3 puts of the same bytes to the same store, in one run.

    .venv/bin/python -m bench.ingest [--calls 200] [--clients 4] [--workers 2] [--threads 4]

Starts an embedded SeaweedFS, a migrated SQLite database and gunicorn (`web.wsgi:app`, by default with
the workers and threads `callvault run` uses), then posts
one-minute 8 kHz µ-law stereo calls from concurrent clients; the baseline is boto3 `put_object` of
the very same bytes from as many threads. Prints calls/s, MB/s, each call's latency (p50, p95, p99: what a
telephony client waits at that load) and the ratio (goal: at least 0.5), and for each side the CPU time a call
took in each kind of process: the web workers, the audio workers (they answer a plain WAV's probe themselves and
fork a child for any other file), SeaweedFS and this process's clients. On a machine the run keeps busy, the ratio
is about the raw put's CPU per call over the ingest's.
"""

from __future__ import annotations

import argparse
import secrets
import struct
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.cpu import Snapshot, snapshot, used_between
from bench.embedded import bench_runtime
from bench.stats import LATENCY_SHARES, percentile
from recordings_service.storage.object_store import make_client
from tests.factories.recordings import call_metadata, make_token
from tests.factories.wav import chunk, fmt, wav
from tests.live_server import MultipartBody, live_server, post_recording
from web.supervisor import WEB_OPTIONS, WEB_THREADS, WEB_WORKERS

RATE = 8000
CHANNELS = 2
SECONDS = 60


def mulaw_call(path: Path) -> None:
    """A WAV (format 7, G.711 µ-law) of random samples: every byte decodes, and every call differs."""
    data = secrets.token_bytes(RATE * CHANNELS * SECONDS)
    no_extension = b"\0\0"
    path.write_bytes(
        wav(
            chunk(b"fmt ", fmt(7, CHANNELS, RATE, 8) + no_extension),
            chunk(b"fact", struct.pack("<I", RATE * SECONDS)),
            chunk(b"data", data),
        )
    )


@dataclass(frozen=True)
class Timing:
    wall_s: float
    latencies_ms: list[float]

    def latency(self) -> str:
        return " ".join(f"p{round(share * 100)} {percentile(self.latencies_ms, share):.0f}" for share in LATENCY_SHARES)


def timed(jobs: list[Callable[[], None]], clients: int) -> Timing:
    """All jobs run from `clients` threads: the wall time, and each job's latency."""

    def latency_ms(job: Callable[[], None]) -> float:
        begun = time.perf_counter()
        job()
        return (time.perf_counter() - begun) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [future.result() for future in [pool.submit(latency_ms, job) for job in jobs]]
    return Timing(wall_s=time.perf_counter() - started, latencies_ms=latencies)


def cpu_snapshot() -> Snapshot:
    """CPU time so far of this process (the clients) and of each process it started, by kind."""
    me = psutil.Process()

    def kind_of(process: psutil.Process) -> str:
        if process.pid == me.pid:
            return "clients"
        command = " ".join(process.cmdline())
        if "fork_server" in command:
            return "audio workers"
        if "weed" in command:
            return "SeaweedFS"
        return "web"

    return snapshot([me, *me.children(recursive=True)], kind_of)


def per_call(used: dict[str, float], calls: int) -> str:
    parts = [f"{kind} {seconds / calls * 1000:.1f}" for kind, seconds in sorted(used.items())]
    return ", ".join(parts) + f" = {sum(used.values()) / calls * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=WEB_WORKERS)
    parser.add_argument("--threads", type=int, default=WEB_THREADS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="callvault-bench-") as tmp:
        root = Path(tmp)
        with bench_runtime(root) as runtime:
            settings = runtime.settings
            with runtime.sessions() as session:
                token = make_token(session)

            calls = []
            for number in range(args.calls):
                path = root / f"call{number:04d}.wav"
                mulaw_call(path)
                calls.append(path)
            total_mb = sum(path.stat().st_size for path in calls) / 1e6

            with live_server(settings, workers=args.workers, threads=args.threads, options=WEB_OPTIONS) as server:

                def post(path: Path) -> Callable[[], None]:
                    def run() -> None:
                        status, body = post_recording(server, token, MultipartBody(path, call_metadata()))
                        if status != 201:
                            raise RuntimeError(f"ingest answered {status}: {body}")

                    return run

                before = cpu_snapshot()
                api = timed([post(path) for path in calls], args.clients)
                api_cpu = used_between(before, cpu_snapshot())

            client = make_client(settings)

            def put(path: Path) -> Callable[[], None]:
                def run() -> None:
                    client.put_object(Bucket=settings.s3_bucket, Key=f"bench-raw/{path.name}", Body=path.read_bytes())

                return run

            before = cpu_snapshot()
            raw = timed([put(path) for path in calls], args.clients)
            raw_cpu = used_between(before, cpu_snapshot())

    n = len(calls)
    print(
        f"{n} calls of {SECONDS} s 8 kHz µ-law stereo, {total_mb:.0f} MB, {args.clients} clients,"
        f" gunicorn {args.workers} workers x {args.threads} threads"
    )
    for name, timing in (("ingest API", api), ("raw S3 put", raw)):
        wall = timing.wall_s
        rates = f"{n / wall:7.1f} calls/s {total_mb / wall:7.1f} MB/s ({wall:.1f} s)"
        print(f"{name} : {rates}; ms a call {timing.latency()}")
    print(f"ratio      : {raw.wall_s / api.wall_s:.2f}x (goal >= 0.5x)")
    print(f"CPU a call : ingest API: {per_call(api_cpu, n)}")
    print(f"CPU a call : raw S3 put: {per_call(raw_cpu, n)} (of {psutil.cpu_count()} cores)")


if __name__ == "__main__":
    main()
