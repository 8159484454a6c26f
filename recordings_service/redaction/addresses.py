"""Street addresses and postal codes with a town ("Mannerheimintie 12 B 34", "Storgatan 5", "12 Baker Street",
"00100 Helsinki"); best effort, from the shapes of street names in the three languages."""

from __future__ import annotations

import re

from recordings_service.redaction.findings import RANK_BEST_EFFORT, Hit, PiiKind

_FINNISH_CASE = r"(?:lla|llä|lle|lta|ltä|ssa|ssä|sta|stä|hen|un|seen)"
_FINNISH_STREET = (
    r"(?:tie|katu|kuja|polku|raitti|väylä|kaari|rinne|tanhua|aukio|tori|ranta|mäki|penger|bulevardi|puistikko"
    rf"|portti|piha|kenttä|kaarre|lenkki|linja|puisto|ahde|vainio|kallio|niemi|harju){_FINNISH_CASE}?"
    # Streets whose stem changes in the cases someone lives at or moves to: "Hämeenkadulla", "Rinteellä".
    rf"|(?:kadu|kuja|polu|raiti|kaare|rintee|mäe|ranna|pihe|aukio|tori){_FINNISH_CASE}"
)
_SWEDISH_STREET = r"(?:gatan|vägen|gränd|gränden|torget|stigen|backen|allén|allé|plan|gata|väg|leden|kajen|stråket)"
_HOUSE = r"\d{1,4}(?:[ ]?[A-Ha-h](?![\w]))?(?:[ ]?(?:as\.?|asunto|lgh\.?|lägenhet)?[ ]?\d{1,3}(?![\d.,]\d))?"
_STREET = re.compile(
    rf"(?<!\w)(?-i:[A-ZÅÄÖ])[\wåäö-]*?(?:{_FINNISH_STREET}|{_SWEDISH_STREET})[ ](?P<number>{_HOUSE})(?![\d,.]\d)",
    re.IGNORECASE,
)
_ENGLISH_STREET = re.compile(
    r"(?<![\w,.])\d{1,4}[A-Za-z]?[ ](?:[A-Z][a-z]+[ ]){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive|Way|Close|Court|Place|Square|Crescent|Gardens|Terrace|Boulevard)\b"
)
_POSTAL = re.compile(r"(?<![\w,.\-])(?:\d{5}|\d{3} \d{2})[ ](?-i:[A-ZÅÄÖ][a-zåäö]+(?:[ -][A-ZÅÄÖ][a-zåäö]+)?)(?!\w)")
_NOT_POSTAL_CUE = re.compile(r"(?:numero|nro|number|nummer|no\.?|tilaus\w*|lasku\w*|order|viite\w*)\s*:?\s*$", re.I)
_JOINABLE = re.compile(r"[ ]?,?[ ]?")


def find_addresses(text: str) -> list[Hit]:
    """Street addresses and postal-code-plus-town, a street and its postal code joined into one finding."""
    spans = [(match.start(), match.end()) for match in _STREET.finditer(text)]
    spans += [(match.start(), match.end()) for match in _ENGLISH_STREET.finditer(text)]
    for match in _POSTAL.finditer(text):
        if not _NOT_POSTAL_CUE.search(text[max(0, match.start() - 20) : match.start()]):
            spans.append((match.start(), match.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (start <= merged[-1][1] or _JOINABLE.fullmatch(text[merged[-1][1] : start])):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [Hit(start, end, PiiKind.ADDRESS, RANK_BEST_EFFORT) for start, end in merged]
