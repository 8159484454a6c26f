"""Free text a person must fill in (study, purpose, reasons, signer): not blank, within its length."""

from __future__ import annotations

from recordings_service.errors import Invalid

MAX_TEXT = 2000


def check_text(name: str, value: str, *, limit: int = MAX_TEXT) -> None:
    if not value.strip() or len(value) > limit:
        why = "blank" if not value.strip() else None
        raise Invalid(name, f"1 to {limit} characters", code="invalid_length", why=why)
