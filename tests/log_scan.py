"""The application log of the whole test run, scanned for personal data and secrets at the end.

Every record logged in the test process (web requests, services, jobs run in-process) goes as a JSON
line, extras included, to one file. When the run ends, the file is searched for customer references,
words spoken in the fixture calls, the run's secrets and API tokens; any hit fails the run.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter

DATA_DIR = Path(__file__).parent / "data"
APP_LOG = Path(tempfile.gettempdir()) / f"callvault-test-app-{os.getpid()}.log"
# Customer references as the tests make them (cust-…, CRM-…) and API tokens (cvt_ + 43 characters).
PATTERNS = [re.compile(r"\b(?:cust|CRM)-[A-Za-z0-9-]+"), re.compile(r"cvt_[A-Za-z0-9_-]{20,}")]
_secrets: set[str] = set()


def remember_secret(*values: str) -> None:
    """Register values (keys, passwords) that must never reach the log."""
    _secrets.update(value for value in values if len(value) >= 8)


def spoken_words() -> set[str]:
    """Distinctive words of the fixture calls' scripts (long enough not to be log vocabulary)."""
    words: set[str] = set()
    for script in DATA_DIR.glob("*.txt"):
        for line in script.read_text().splitlines():
            text = line.split(":", 1)[-1]
            words.update(word for word in re.findall(r"\w+", text) if len(word) >= 9)
    return words


def personal_data_in(text: str, needles: Iterable[str]) -> list[str]:
    """Each needle or pattern match found in `text`, for the report."""
    found = [needle for needle in needles if needle in text]
    for pattern in PATTERNS:
        found.extend(sorted(set(pattern.findall(text))))
    return found


@pytest.fixture(scope="session", autouse=True)
def application_log() -> Iterator[Path]:
    handler = logging.FileHandler(APP_LOG, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    yield APP_LOG
    root.removeHandler(handler)
    handler.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not APP_LOG.exists():
        return
    from tests.factories.accounts import PASSWORD

    text = APP_LOG.read_text(encoding="utf-8", errors="replace")
    leaks = personal_data_in(text, {*_secrets, PASSWORD, *spoken_words()})
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"personal data or secrets in the application log ({APP_LOG}): {sorted(set(leaks))[:20]}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        APP_LOG.unlink()
