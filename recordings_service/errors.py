"""Domain errors. `web/errors.py` maps them to HTTP; the CLI and jobs report them as they are.

An error that refuses an actor something carries the refusal's audit event (`refusal`); whoever reports
the error writes that event in its own transaction, because the use case's transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recordings_service.audit import Actor


@dataclass(frozen=True)
class Refusal:
    """The audit event a refusal leaves: who was refused what, and why (ids and codes only)."""

    actor: Actor
    action: str
    object_type: str | None
    object_id: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, refusal: Refusal | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.refusal = refusal


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    """Bad input; `field` names the offending input so a client can point at it."""

    code = "invalid"

    def __init__(self, field: str, message: str, *, code: str | None = None, refusal: Refusal | None = None) -> None:
        super().__init__(message, refusal=refusal)
        self.field = field
        if code is not None:
            self.code = code


class TooLarge(Invalid):
    code = "too_large"


class Unavailable(DomainError):
    """A dependency (database, object store, model) cannot serve the request now."""

    code = "unavailable"
