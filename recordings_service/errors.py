"""Domain errors. `web/errors.py` maps them to HTTP; the CLI and jobs report them as they are."""


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    """Bad input; `field` names the offending input so a client can point at it."""

    code = "invalid"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        if code is not None:
            self.code = code


class TooLarge(Invalid):
    code = "too_large"


class Unavailable(DomainError):
    """A dependency (database, object store, model) cannot serve the request now."""

    code = "unavailable"
