"""Customer numbers in the utility's CRM format; the pattern can be replaced per deployment.

The default is a cue ("asiakasnumero", "kundnummer", "customer number" and their variants) followed, within a
few words of the same sentence, by 6-10 digits, possibly read in groups. A replacement pattern is a regular
expression matched case-insensitively against the text with spoken numbers already turned into digits; its
group named `number`, when present, is the span reported, otherwise the whole match is.
"""

from __future__ import annotations

import re
from functools import cache

from recordings_service.redaction.findings import RANK_CUE, RANK_PATTERN, Hit, PiiKind

CUSTOMER_NUMBER_CUE = (
    r"asiakasnumero\w*|asiakasnro|asiakastunnus\w*|asiakkuusnumero\w*|asiakasnumeroa"
    r"|kundnummer\w*|kundnumret|kund-?id|customer (?:number|no\.?|id|reference)|account number"
)
DEFAULT_CUSTOMER_NUMBER_PATTERN = (
    rf"(?:{CUSTOMER_NUMBER_CUE})[^\d.!?]{{0,30}}?(?<![\d])(?P<number>\d(?:[ \-]?\d){{5,9}})(?![ \-]?\d)"
)
# A whole run of digits, never the end of a longer one read in groups ("4111 1111 1111 1111" is no customer number).
_LONE_NUMBER = re.compile(r"(?<![\d,.:/-])(?<!\d[ \-])(?P<number>\d(?:[ \-]?\d){5,9})(?![ \-]?\d|[,.:/]\d)")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def find_customer_numbers(text: str, context: str, pattern: str | None) -> list[Hit]:
    """Customer numbers after their cue, or alone in an answer to a question asking for one."""
    compiled = _compiled(pattern or DEFAULT_CUSTOMER_NUMBER_PATTERN)
    hits = [_hit(match) for match in compiled.finditer(text)]
    if not hits and pattern is None and _compiled(CUSTOMER_NUMBER_CUE).search(context):
        numbers = list(_LONE_NUMBER.finditer(text))
        if len(numbers) == 1:
            # Only the question before makes it one: a checksum (a card, an IBAN, an identity code) says better.
            hits.append(_hit(numbers[0], rank=RANK_PATTERN))
    return hits


def _hit(match: re.Match[str], *, rank: int = RANK_CUE) -> Hit:
    group = "number" if "number" in match.re.groupindex and match["number"] is not None else 0
    return Hit(match.start(group), match.end(group), PiiKind.CUSTOMER_NUMBER, rank)
