"""A jobs process asked to stop (SIGTERM from its service manager) finishes the item in hand and claims no other:
a transcription run went on claiming calls for the rest of its five-minute budget after the signal (a deployment
pass saw five calls transcribed after it), past systemd's stop timeout, so every restart ended in SIGKILL and a
lease left to expire."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from jobs import leases
from recordings_service.runtime import Runtime


@pytest.fixture
def stopping() -> Iterator[None]:
    yield
    leases.STOPPING.clear()


@pytest.mark.usefixtures("stopping")
def test_a_run_asked_to_stop_finishes_its_item_and_claims_no_other(runtime: Runtime) -> None:
    queue = ["call-1", "call-2", "call-3"]
    claimed: list[str] = []

    def claim(_session: Session, _owner: str) -> str | None:
        if not queue:
            return None
        claimed.append(queue.pop(0))
        return claimed[-1]

    def work(_item: str) -> str:
        leases.STOPPING.set()  # the signal arrives while the first call is transcribed
        return "done"

    counts = leases.work_through(
        runtime, claim=claim, work=work, budget_s=300, outcomes=("done",), log=logging.getLogger("test"), summary="x"
    )
    assert (claimed, counts) == (["call-1"], {"done": 1})
