"""Bank account numbers as IBANs, written or read aloud in groups, validated (mod 97) by python-stdnum."""

from __future__ import annotations

import re

from stdnum import iban

from recordings_service.redaction.findings import RANK_CHECKSUM, Hit, PiiKind

# A country code, two check digits and a generous tail; the tail is cut back to the longest valid IBAN.
# Groups may be parted by a comma or a stop, as an engine writes a pause ("FI21, 1234, 5600, 0007, 85").
_CANDIDATE = re.compile(
    r"(?<![^\W\d_])[A-Z]{2}(?:[,.]{1,3}[ ]?|[ \-])?\d{2}(?:(?:[,.]{1,3}[ ]?|[ \-])?[A-Z0-9]){8,34}", re.IGNORECASE
)
_SHORTEST_IBAN = 15


def find_ibans(text: str) -> list[Hit]:
    """IBANs of any country whose check digits hold."""
    hits: list[Hit] = []
    for match in _CANDIDATE.finditer(text):
        positions = [match.start() + index for index, char in enumerate(match.group()) if char.isalnum()]
        compact = "".join(text[position] for position in positions).upper()
        for length in range(len(compact), _SHORTEST_IBAN - 1, -1):
            if iban.is_valid(compact[:length]):
                hits.append(Hit(match.start(), positions[length - 1] + 1, PiiKind.IBAN, RANK_CHECKSUM))
                break
    return hits
