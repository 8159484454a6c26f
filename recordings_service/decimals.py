"""Scores and averages with one decimal, rounded one way wherever they are shown.

A score of 82.35 read 82,4 in the confirmation (Babel rounds the decimal digits, half to even) but 82,3 in the CSV,
the dashboard and the trends (Python rounds the binary fraction, 82.3499…): the same evaluation, two scores. Half a
tenth now rounds up, as people round it, from the digits as written."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

_TENTH = Decimal("0.1")
_HALF_TENTH = Decimal("0.05")


def one_decimal(value: float) -> float:
    """`value` rounded to a tenth, half a tenth up (82.35 → 82.4, 82.25 → 82.3)."""
    return float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_UP))


def lowest_shown_at_least(value: float) -> float:
    """The lowest score that is `value` or more, or that `one_decimal` shows as that (66.7 → 66.65, 66.61 → 66.61).

    A page shows 66.67 as 66,7; a filter "from 66,7" compared with the stored score left that call out."""
    shown = float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_CEILING) - _HALF_TENTH)
    return min(value, shown)


def highest_shown_at_most(value: float) -> float:
    """The highest score that is `value` or less, or that `one_decimal` shows as that (66.7 → just below 66.75,
    which shows as 66,8; 66.69 → 66.69)."""
    shown = math.nextafter(float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_FLOOR) + _HALF_TENTH), -math.inf)
    return max(value, shown)
