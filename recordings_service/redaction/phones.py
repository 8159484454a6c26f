"""Telephone numbers, matched by Google's libphonenumber (the `phonenumbers` port)."""

from __future__ import annotations

import re

import phonenumbers

from recordings_service.redaction.findings import RANK_PATTERN, Hit, PiiKind

_REGIONS = {"fi": ("FI",), "sv": ("FI", "SE"), "en": ("FI",)}
# "plus" read aloud before a country code; replaced by a "+" of the same length so offsets stay put.
_SPOKEN_PLUS = re.compile(r"\b(?:plus|plussa)[ ](?=\d)", re.IGNORECASE)
# Digits the engine wrote one by one ("0 4 0, 1 2 3, 4 5 6 7"), which libphonenumber does not group.
_SPACED_DIGITS = re.compile(r"(?<![\d,.])\d{1,4}(?:,?[ ]\d{1,4}){3,}(?![\d,.]\d)")


def find_phone_numbers(text: str, language: str) -> list[Hit]:
    """Finnish numbers, Swedish ones in Swedish calls, and any number written with its country code."""
    pluses = {match.end() - 1: match.start() for match in _SPOKEN_PLUS.finditer(text)}
    text = _SPOKEN_PLUS.sub(lambda match: " " * (len(match.group()) - 1) + "+", text)
    hits = _matches(text, language, list(range(len(text) + 1)))
    squeezed, positions = _squeeze_spaced_digits(text)
    if squeezed != text:
        hits |= _matches(squeezed, language, positions)
    spans = {(pluses.get(hit.start, hit.start), hit.end) for hit in hits}
    return [Hit(start, end, PiiKind.PHONE, RANK_PATTERN) for start, end in sorted(spans)]


def _matches(text: str, language: str, positions: list[int]) -> set[Hit]:
    hits: set[Hit] = set()
    for region in (*_REGIONS.get(language, ("FI",)), "ZZ"):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            # A national number is dialled with its trunk 0 and a foreign one with + or 00: anything else
            # (an order number, a meter reading) only happens to fit some numbering plan.
            if match.raw_string.lstrip("(").startswith(("0", "+")):
                hits.add(Hit(positions[match.start], positions[match.end - 1] + 1, PiiKind.PHONE, RANK_PATTERN))
    return hits


def _squeeze_spaced_digits(text: str) -> tuple[str, list[int]]:
    """`text` with the separators inside runs of short digit groups removed, and each character's old index."""
    kept: list[str] = []
    positions: list[int] = []
    position = 0
    for match in _SPACED_DIGITS.finditer(text):
        kept.append(text[position : match.start()])
        positions.extend(range(position, match.start()))
        for index in range(match.start(), match.end()):
            if text[index].isdigit():
                kept.append(text[index])
                positions.append(index)
        position = match.end()
    kept.append(text[position:])
    positions.extend(range(position, len(text) + 1))
    return "".join(kept), positions
