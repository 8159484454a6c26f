"""The ranges criteria give as two fields (dates, durations, scores): an upper end may not lie below its lower end.

Checked on the upper end's field, so the error names it (`criteria.to`); a model validator's error would name
only the whole body. Research selection and training samples share these.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

# An upper end's field: its lower end's field, and what to say when it lies below it.
RANGE_ENDS = {
    "to": ("from_", "'to' is before 'from'"),
    "max_duration_s": ("min_duration_s", "max_duration_s is below min_duration_s"),
    "score_max": ("score_min", "score_max is below score_min"),
}


def upper_end(value: Any, info: ValidationInfo) -> Any:
    """A field validator for the upper ends in `RANGE_ENDS`: `value`, or an error on it when below the lower end
    (validated before it, so in `info.data`)."""
    lower, message = RANGE_ENDS[str(info.field_name)]
    low = info.data.get(lower)
    if value is not None and low is not None and value < low:
        raise PydanticCustomError("range_order", message)
    return value
