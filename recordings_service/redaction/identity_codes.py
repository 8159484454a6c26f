"""Personal identity codes: the Finnish henkilötunnus and the Swedish personnummer, checksums by python-stdnum."""

from __future__ import annotations

import re

from stdnum.fi import hetu
from stdnum.se import personnummer

from recordings_service.redaction.findings import RANK_CHECKSUM, Hit, PiiKind

# Century signs as said aloud; the 2023 reform added Y X W V U (1900s) and B C D E F (2000s) beside - + A.
_SPOKEN_SIGNS = {
    **{"viiva": "-", "väliviiva": "-", "miinus": "-", "plus": "+", "streck": "-", "minus": "-", "dash": "-"},
    **{"–": "-", "—": "-", "_": "-"},  # other dashes, as typed or as an engine writes them
}
# Finnish letter names, for a check character or century letter read aloud.
_LETTER_NAMES = {
    "aa": "A",
    "bee": "B",
    "cee": "C",
    "see": "C",
    "dee": "D",
    "ee": "E",
    "äf": "F",
    "hoo": "H",
    "jii": "J",
    "koo": "K",
    "äl": "L",
    "äm": "M",
    "än": "N",
    "pee": "P",
    "är": "R",
    "äs": "S",
    "tee": "T",
    "uu": "U",
    "vee": "V",
    "kaksoisvee": "W",
    "äks": "X",
    "yy": "Y",
}
_SIGN = "|".join([r"[-+YXWVUABCDEF]", *map(re.escape, _SPOKEN_SIGNS), *_LETTER_NAMES])
_CHECK = "|".join([r"[0-9A-Y]", *_LETTER_NAMES])
# The sign may go unsaid ("131052 308T"): the check character does not depend on it, so such a code is checked with
# each sign; then only a letter as its check character, or a cue naming the code, tells it from other digit runs.
_HETU = re.compile(
    rf"(?<![\w+-])(?P<date>\d{{6}})[ ]?(?P<sign>{_SIGN})?[ ]?(?P<individual>\d{{3}})[ ]?(?P<check>{_CHECK})(?!\w)",
    re.IGNORECASE,
)
_PERSONNUMMER = re.compile(
    r"(?<![\w+-])(?P<date>\d{8}|\d{6})[ ]?(?P<sign>[-+]|streck|minus|plus)?[ ]?(?P<serial>\d{4})(?!\w)"
)
_PERSONNUMMER_CUE = re.compile(r"personnummer|henkilötunnus|hetu|social security|personal (?:id|identity)", re.I)


def find_personal_ids(text: str) -> list[Hit]:
    """Valid Finnish and Swedish identity codes, written or read aloud."""
    cue = _PERSONNUMMER_CUE.search(text) is not None
    hits = [_hit(match) for match in _HETU.finditer(text) if _valid_hetu(match, cued=cue)]
    for match in _PERSONNUMMER.finditer(text):
        number = match["date"] + _spoken(match["sign"] or "") + match["serial"]
        # Ten bare digits starting with 0 are far more often a phone number than someone born 2000-2009.
        if not cue and match["sign"] is None and len(match["date"]) == 6 and number.startswith("0"):
            continue
        if personnummer.is_valid(number):
            hits.append(_hit(match))
    return hits


def _valid_hetu(match: re.Match[str], *, cued: bool) -> bool:
    check = _spoken(match["check"])
    if match["sign"] is None and not (cued or check.isalpha()):
        return False
    signs = [_spoken(match["sign"])] if match["sign"] is not None else ["-", "A", "+"]
    # Temporary codes (individual number 900-999) are still someone's identity code.
    return any(
        hetu.is_valid(match["date"] + sign + match["individual"] + check, allow_temporary=True) for sign in signs
    )


def _spoken(token: str) -> str:
    lowered = token.lower()
    return _SPOKEN_SIGNS.get(lowered) or _LETTER_NAMES.get(lowered) or token.upper()


def _hit(match: re.Match[str]) -> Hit:
    return Hit(match.start(), match.end(), PiiKind.PERSONAL_ID, RANK_CHECKSUM)
