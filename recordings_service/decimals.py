"""Scores and averages with one decimal, rounded one way wherever they are shown.

A score of 82.35 read 82,4 in the confirmation (Babel rounds the decimal digits, half to even) but 82,3 in the CSV,
the dashboard and the trends (Python rounds the binary fraction, 82.3499…): the same evaluation, two scores. Half a
tenth now rounds up, as people round it, from the digits as written."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_TENTH = Decimal("0.1")


def one_decimal(value: float) -> float:
    """`value` rounded to a tenth, half a tenth up (82.35 → 82.4, 82.25 → 82.3)."""
    return float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_UP))
