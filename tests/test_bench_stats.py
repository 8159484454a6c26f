"""bench.stats and bench.ingest's timing: the latency figures a bench prints."""

from __future__ import annotations

import threading

from bench.ingest import timed
from bench.stats import percentile


def test_percentiles_are_nearest_rank_samples_in_any_order() -> None:
    samples = [float(value) for value in range(101, 0, -1)]
    assert [percentile(samples, share) for share in (0.0, 0.5, 0.95, 0.99, 1.0)] == [1.0, 51.0, 96.0, 100.0, 101.0]
    assert percentile([7.0], 0.95) == 7.0


def test_every_job_runs_once_on_the_clients_and_gets_its_own_latency() -> None:
    ran: list[int] = []
    threads: set[int] = set()
    release = threading.Barrier(2)

    def job(number: int) -> None:
        threads.add(threading.get_ident())
        if number < 2:
            release.wait(timeout=10)  # the first two run at once: two clients
        ran.append(number)

    timing = timed([lambda number=number: job(number) for number in range(6)], clients=2)
    assert sorted(ran) == list(range(6))
    assert len(timing.latencies_ms) == 6 and len(threads) == 2
    assert max(timing.latencies_ms) <= timing.wall_s * 1000
    assert "p50 " in timing.latency() and "p99 " in timing.latency()
