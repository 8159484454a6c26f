"""The one mapping of domain errors to what a page says: known (field, code) pairs translated, others as the
service wrote them."""

from __future__ import annotations

from flask import Flask

from recordings_service.errors import Conflict, Invalid
from web.ui.error_messages import error_message

FINNISH = {"Accept-Language": "fi"}


def test_an_error_not_listed_keeps_the_services_message(app: Flask) -> None:
    with app.test_request_context(headers=FINNISH):
        assert error_message(Conflict("legal hold 01J was released already")) == "legal hold 01J was released already"
        assert error_message(Invalid("reason", "state the reason", code="missing")) == "kerro syy"
        assert error_message(Invalid("elsewhere", "state the reason", code="missing")) == "state the reason"


def test_english_readers_keep_the_services_words(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert error_message(Invalid("reason", "state the reason", code="missing")) == "state the reason"
        assert error_message(Invalid("basis", "at most 2000 characters", code="invalid_length")) == (
            "at most 2000 characters"
        )
