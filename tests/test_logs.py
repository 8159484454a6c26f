"""Structured logs: JSON lines when the output is not a terminal."""

from __future__ import annotations

import io
import json
import logging

from recordings_service.config import Settings
from recordings_service.logs import configure_logging


def test_logs_are_json_lines_off_a_terminal() -> None:
    stream = io.StringIO()
    handler = configure_logging(Settings(log_format="auto"), stream=stream)
    try:
        logging.getLogger("callvault.test").info("ingested", extra={"recording_id": "01ABC", "count": 3})
    finally:
        logging.getLogger().removeHandler(handler)
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["message"] == "ingested"
    assert record["recording_id"] == "01ABC"
    assert record["count"] == 3
    assert record["level"] == "INFO"


def test_text_logs_on_request() -> None:
    stream = io.StringIO()
    handler = configure_logging(Settings(log_format="text"), stream=stream)
    try:
        logging.getLogger("callvault.test").warning("plain")
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert "plain" in line and not line.startswith("{")
