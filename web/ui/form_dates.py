"""A date typed into a form field (`2025-01-31`), refused naming the field when it is not one."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext

from recordings_service.errors import Invalid


def optional_date(value: str, *, field: str) -> date | None:
    """The day typed, or None when the field was left empty."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, gettext("use a date such as 2025-01-31"), code="invalid_date") from None
