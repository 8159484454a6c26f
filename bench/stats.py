"""Figures of a bench's samples."""

from __future__ import annotations

# The latency percentiles the benches report (as p50, p95, p99).
LATENCY_SHARES = (0.5, 0.95, 0.99)


def percentile(samples: list[float], share: float) -> float:
    """The sample below which `share` of them lie (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
