"""E-mail addresses, written ("matti.virtanen@example.fi") or read aloud ("matti piste virtanen ät example
piste fi", "anna punkt berg snabel-a exempel punkt se", "john dot smith at example dot com")."""

from __future__ import annotations

import re

from recordings_service.redaction.findings import RANK_PATTERN, Hit, PiiKind

_WRITTEN = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?<!\.)", re.UNICODE)

_AT = r"@|\bät\b|\bat\b|\bmiukumauku\b|\bkissanhäntä\b|\bsnabel-?a\b|\bat-merkki\b|\bät-merkki\b|\bat sign\b"
_DOT = r"\.|\bpiste\b|\bdot\b|\bpunkt\b|\bpoint\b"
_JOIN = rf"{_DOT}|\balaviiva\b|\bviiva\b|\bunderscore\b|\bdash\b|\bhyphen\b|\bbindestreck\b|\bunderstreck\b|[_-]"
_TOP_LEVEL = r"fi|com|net|org|se|eu|info|io|me|nu|dk|no|de|ee|uk|biz"
_NAME = r"[^\W_]+"
_SPOKEN = re.compile(
    rf"(?<![\w.@]){_NAME}(?:\s*(?:{_JOIN})\s*{_NAME})*\s*(?:{_AT})\s*{_NAME}(?:\s*(?:{_JOIN})\s*{_NAME})*?"
    rf"\s*(?:{_DOT})\s*(?:{_TOP_LEVEL})\b",
    re.IGNORECASE,
)
_SPOKEN_WORDS = re.compile(rf"{_AT}|{_DOT}", re.IGNORECASE)


def find_emails(text: str) -> list[Hit]:
    """Written and spoken e-mail addresses."""
    hits = [Hit(match.start(), match.end(), PiiKind.EMAIL, RANK_PATTERN) for match in _WRITTEN.finditer(text)]
    for match in _SPOKEN.finditer(text):
        # A plain "at" between two words ("at home dot com") is only an address if a dot word is in it too.
        if len(_SPOKEN_WORDS.findall(match.group())) >= 2:
            hits.append(Hit(match.start(), match.end(), PiiKind.EMAIL, RANK_PATTERN))
    return hits
