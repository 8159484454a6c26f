"""Validation errors as the API reports them: the field a person typed, a stable code, the validator's words."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError, model_validator

from recordings_service.errors import invalid_from


class Kind(StrEnum):
    GOOD = "good_example"


class Sample(BaseModel):
    kind: Kind | Literal["any"]
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Sample:
        if self.end < self.start:
            raise ValueError("'end' is before 'start'")
        return self


def located(body: dict[str, object]) -> tuple[str, str, str]:
    with pytest.raises(ValidationError) as failed:
        Sample.model_validate(body)
    error = invalid_from(failed.value)
    return error.field, error.code, error.message


def test_a_union_field_is_named_as_sent_not_by_its_member_type() -> None:
    """Found by exploratory testing: `nominated` came back as `nominated.str-enum[NominationKind]`."""
    field, _, _ = located({"kind": "bogus", "start": "2026-01-01", "end": "2026-01-02"})
    assert field == "kind"


def test_a_validators_message_comes_without_pydantics_prefix() -> None:
    assert located({"kind": "any", "start": "2026-01-02", "end": "2026-01-01"}) == (
        "body",
        "value_error",
        "'end' is before 'start'",
    )


def test_a_date_that_is_not_a_date_has_a_stable_code() -> None:
    field, code, _ = located({"kind": "any", "start": "2026-01-01T10:00:00", "end": "2026-01-02"})
    assert (field, code) == ("start", "invalid_date")
