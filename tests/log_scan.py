"""The application log of the whole test run, scanned for personal data and secrets at the end.

Every record logged in a test process (web requests, services, jobs run in-process) goes as a JSON
line, extras included, to that process's file in the run's log directory. When the run ends, the
controlling process (the only one when pytest-xdist is not spreading the tests over workers) searches
every file for customer references, words spoken in the fixture calls, the run's secrets and API
tokens; any hit fails the run. Secrets registered in a worker are written beside its log, since the
controller never sees them.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter

DATA_DIR = Path(__file__).parent / "data"
# Set by the controlling process before pytest-xdist starts its workers, which inherit it.
LOG_DIR_VARIABLE = "CALLVAULT_TEST_LOG_DIR"
# Customer references as the tests make them (cust-…, CRM-…) and API tokens (cvt_ + 43 characters).
PATTERNS = [re.compile(r"\b(?:cust|CRM)-[A-Za-z0-9-]+"), re.compile(r"cvt_[A-Za-z0-9_-]{20,}")]
_secrets: set[str] = set()


def log_dir() -> Path:
    return Path(os.environ[LOG_DIR_VARIABLE])


def process_log() -> Path:
    """This process's application log."""
    return log_dir() / f"app-{os.getpid()}.log"


def remember_secret(*values: str) -> None:
    """Register values (keys, passwords) that must never reach the log."""
    new = {value for value in values if len(value) >= 8} - _secrets
    _secrets.update(new)
    if new:
        with (log_dir() / f"secrets-{os.getpid()}.txt").open("a", encoding="utf-8") as listing:
            listing.writelines(f"{value}\n" for value in sorted(new))


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


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config):
        os.environ[LOG_DIR_VARIABLE] = tempfile.mkdtemp(prefix="callvault-test-logs-")


@pytest.fixture(scope="session", autouse=True)
def application_log() -> Iterator[Path]:
    path = process_log()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    yield path
    root.removeHandler(handler)
    handler.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    from tests.factories.accounts import PASSWORD

    directory = log_dir()
    secrets = {*_secrets, PASSWORD}
    for listing in directory.glob("secrets-*.txt"):
        secrets.update(listing.read_text(encoding="utf-8").splitlines())
    needles = {*secrets, *spoken_words()}
    leaks = {
        log: personal_data_in(log.read_text(encoding="utf-8", errors="replace"), needles)
        for log in sorted(directory.glob("app-*.log"))
    }
    leaks = {log: found for log, found in leaks.items() if found}
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for log, found in leaks.items():
            message = f"personal data or secrets in the application log ({log}): {sorted(set(found))[:20]}"
            if reporter is not None:
                reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        shutil.rmtree(directory, ignore_errors=True)
