"""Fixtures of the inbox tests: an inbox directory of the test's own and a runtime whose settings point at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings_service.runtime import Runtime
from tests.factories.inbox import with_inbox


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


@pytest.fixture
def inbox_runtime(runtime: Runtime, inbox: Path) -> Runtime:
    return with_inbox(runtime, inbox)
