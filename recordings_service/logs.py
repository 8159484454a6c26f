"""Structured logging: JSON lines when not on a terminal. Messages carry ids and counts, never personal data."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from recordings_service.config import Settings


def configure_logging(settings: Settings, *, stream: object = None) -> logging.Handler:
    """Install Callvault's handler on the root logger, replacing an earlier one (other handlers stay)."""
    output = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(output)  # type: ignore[arg-type]
    as_json = settings.log_format == "json" or (settings.log_format == "auto" and not _is_tty(output))
    if as_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for earlier in [existing for existing in root.handlers if getattr(existing, _MARK, False)]:
        root.removeHandler(earlier)
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # botocore logs request details (including signed headers) at DEBUG; keep it quiet.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


_MARK = "callvault_handler"


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
