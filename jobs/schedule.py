"""The one declared list of periodic jobs. Each opens a session, calls one service function, commits, logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from recordings_service.runtime import Runtime


@dataclass(frozen=True)
class JobSpec:
    id: str
    seconds: int
    run: Callable[[Runtime], None]


JOBS: list[JobSpec] = []
