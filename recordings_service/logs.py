"""Structured logging: JSON lines when not on a terminal. Messages carry ids and counts, never personal data."""

from __future__ import annotations

import logging
import sqlite3
import sys
import traceback
from types import TracebackType

from psycopg import Error as PsycopgError
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.exc import SQLAlchemyError

from recordings_service.config import Settings
from recordings_service.errors import DomainError

# A database error's text can quote the row it failed on: PostgreSQL's DETAIL line names the key's values,
# and SQLAlchemy appends the parameters unless the engine hides them (recordings_service.db does).
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, PsycopgError)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def describe_exception(exc: BaseException) -> str:
    """What a log or a job's `last_error` may say about `exc`: a database error only by its kind."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, DATABASE_ERRORS):
        code = getattr(getattr(exc, "orig", exc), "sqlstate", None)
        return f"{type(exc).__name__} (SQLSTATE {code})" if code else type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def format_exception(exc: BaseException) -> str:
    """A traceback like Python's, each exception in the chain told by `describe_exception`."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n\nwhich led to\n\n".join(
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(each.__traceback__))
        + f"{type(each).__module__}.{type(each).__qualname__}: {describe_exception(each)}"
        for each in reversed(chain)
    )


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # another handler's rendering may be cached there, with a database error's text
        return super().format(record)

    def formatException(self, ei: ExcInfo) -> str:
        return format_exception(ei[1]) if ei[1] is not None else ""


class _JsonFormatter(JsonFormatter):
    def formatException(self, ei: ExcInfo) -> str:  # type: ignore[override]
        return format_exception(ei[1]) if ei[1] is not None else ""


def configure_logging(settings: Settings, *, stream: object = None) -> logging.Handler:
    """Install Callvault's handler on the root logger, replacing an earlier one (other handlers stay)."""
    output = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(output)  # type: ignore[arg-type]
    as_json = settings.log_format == "json" or (settings.log_format == "auto" and not _is_tty(output))
    if as_json:
        handler.setFormatter(
            _JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
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
