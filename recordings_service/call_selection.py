"""The call selection research batches and training samples share: call dates, queues, languages, directions and a
duration range, declared once (`CallSelection`) and applied to a query once (`CallSelection.applied_to`).

A criteria model extends `CallSelection` with its own fields. The dates are optional here; a model that needs them
declares `from_` and `to` again as required, which keeps their place (first) in the fields, so the validators of
`to` and `max_duration_s` still see their lower ends.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import Select

from recordings_service.calendar_days import DEFAULT_ZONE, TimeZoneName
from recordings_service.iso_input import Day
from recordings_service.ranges import upper_end
from recordings_service.recordings import Language, QueueName, calls_matching

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


class CallSelection(BaseModel):
    """Which calls: `from` and `to` are call dates, both inclusive, as days of `timezone`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False)

    # Lower ends before upper ends: an upper end's validator reads its lower end from what is validated before it.
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None
    timezone: TimeZoneName = DEFAULT_ZONE
    # Each item is one the calls can be stored with: a blank, overlong or unknown one would select nothing.
    queues: list[QueueName] | None = Field(default=None, max_length=100)
    languages: list[Language] | None = Field(default=None, max_length=20)
    directions: list[Literal["inbound", "outbound"]] | None = None
    min_duration_s: float | None = Field(default=None, ge=0)
    max_duration_s: float | None = Field(default=None, ge=0)

    @field_validator("to", "max_duration_s")
    @classmethod
    def _selection_end_not_below_its_lower_end(cls, value: Any, info: ValidationInfo) -> Any:
        return upper_end(value, info)

    def applied_to(self, query: _Query) -> _Query:
        """`query` narrowed to the calls this selection names (`recordings.calls_matching`)."""
        return calls_matching(
            query,
            from_day=self.from_,
            to_day=self.to,
            timezone=self.timezone,
            queues=self.queues,
            languages=self.languages,
            directions=self.directions,
            min_duration_s=self.min_duration_s,
            max_duration_s=self.max_duration_s,
        )
