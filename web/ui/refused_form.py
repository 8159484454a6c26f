"""A refused form sent back to its page: what was typed, the reason, and the field it names.

A redirect that flashes the reason drops what was typed; the page rendered again with a `RefusedForm` keeps it,
shows the reason beside the form and marks the field (`templates/_refused.html`), answering 422 (409 for a
conflict).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from recordings_service.errors import Conflict, DomainError, Invalid
from web.errors import abandon_refused
from web.ui.error_messages import error_message


@dataclass(frozen=True)
class RefusedForm:
    """A form of a page sent back: which one, what was typed, and why it was refused (on which field)."""

    form: str
    values: dict[str, str]
    message: str
    field: str | None


def refused_form(form: str, exc: DomainError) -> RefusedForm:
    """The posted form as typed (its CSRF token left out) with the refusal in the reader's language.

    The failed use case's work is rolled back first (its refusal's audit event kept): the page is rendered from what
    is stored.
    """
    abandon_refused(exc)
    values = {name: value for name, value in request.form.items() if name != "csrf_token"}
    field = exc.field if isinstance(exc, Invalid) else None
    return RefusedForm(form=form, values=values, message=error_message(exc), field=field)


def refusal_status(exc: DomainError) -> int:
    """409 for a conflict (the form was right, the state has moved on), else 422."""
    return 409 if isinstance(exc, Conflict) else 422
