"""What a PII finding is: a kind and a span of the original transcript text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PiiKind(StrEnum):
    """The kinds of personal data the detectors report; the value is the name used in `[KIND]` redactions."""

    PERSONAL_ID = "personal_id"
    CARD = "card"
    CARD_SECURITY_CODE = "card_security_code"
    CARD_EXPIRY = "card_expiry"
    IBAN = "iban"
    PHONE = "phone"
    EMAIL = "email"
    CUSTOMER_NUMBER = "customer_number"
    PERSON = "person"
    ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: `text[start:end] == value` in the text it was found in."""

    start: int
    end: int
    kind: PiiKind
    value: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A detector's candidate span in the normalised text; a lower `rank` wins an overlap."""

    start: int
    end: int
    kind: PiiKind
    rank: int


# Overlap ranks: a value right after a cue naming its kind beats a checksum match, which beats a pattern
# match, which beats the best-effort name and address rules; within a rank the longer span wins.
RANK_CUE = 0
RANK_CHECKSUM = 1
RANK_PATTERN = 2
RANK_BEST_EFFORT = 3
