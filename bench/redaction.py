"""PII detection quality and speed over the labelled corpus in tests/data/pii, in one run.

    .venv/bin/python -m bench.redaction [--seconds 3]

Prints precision and recall per kind (a finding counts when its kind equals a label's and the spans overlap;
goals in tests/redaction/test_find_pii.py), then throughput: the corpus utterances, each one transcript
segment, run through `find_pii` again and again for a few seconds, as segments per second.
"""

from __future__ import annotations

import argparse
import time

from recordings_service.redaction import find_pii
from tests.redaction.test_find_pii import PRECISION_GOAL, RECALL_GOALS, load_corpus, score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    corpus = load_corpus()
    result = score(corpus)
    print(f"{len(corpus)} utterances, {sum(result.labels.values())} labels")
    print(f"{'kind':<20} {'labels':>6} {'found':>6} {'recall':>7} {'goal':>5} {'findings':>8} {'precision':>9}")
    for kind in sorted(RECALL_GOALS):
        print(
            f"{kind:<20} {result.labels[kind]:>6} {result.found[kind]:>6} {result.recall(kind):>7.3f}"
            f" {RECALL_GOALS[kind]:>5.2f} {result.findings[kind]:>8} {result.precision(kind):>9.3f}"
        )
    print(f"{'overall precision':<20} {result.precision():.3f} (goal {PRECISION_GOAL:.2f})")

    segments = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for utterance in corpus:
            find_pii(utterance.text, utterance.language, context=utterance.context)
        segments += len(corpus)
    elapsed = time.perf_counter() - started
    print(f"throughput: {segments / elapsed:,.0f} segments/s ({segments} segments in {elapsed:.1f} s, one thread)")


if __name__ == "__main__":
    main()
