"""The one mapping of domain errors to what a page says: known (field, code) pairs translated, others as the
service wrote them."""

from __future__ import annotations

import pytest
from flask import Flask

from recordings_service.errors import Conflict, Invalid
from web.ui import error_messages
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


def test_a_message_listed_by_two_areas_is_refused_when_the_tables_are_merged() -> None:
    # The areas' tables (web/ui/messages/) are merged into one: a key in two would let one silently shadow the other.
    with pytest.raises(ValueError, match=r"'reason', 'missing'.* both privacy and research"):
        error_messages._merged({"privacy": {("reason", "missing"): "a"}, "research": {("reason", "missing"): "b"}})
    assert error_messages._merged({"privacy": {"a": "1"}, "research": {"b": "2"}}) == {"a": "1", "b": "2"}
