"""Numbers spoken as words (fi, sv, en) rewritten as digits, with a map from every digit back to the words.

Speech engines write "nolla neljä viisi", "tjugotre" or "double five" as often as "045", "23" or "55", and a
card or phone number read aloud is only recognisable once it is digits. Words are parsed with small
per-language tables (compounds such as "kaksikymmentäkolme" and "trehundra" are split into their parts);
consecutive number words join into one run whose cardinals are written one after another, so digit-by-digit
readings ("four five three two") and group readings ("forty five thirty two") both become "4532".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto
from functools import cache


class Part(Enum):
    """The grammatical role of one piece of a number word."""

    VALUE = auto()  # a complete value: a digit, a teen, a ten
    TENS_SUFFIX = auto()  # Finnish "-kymmentä": multiplies the unit before it by ten
    TEEN_SUFFIX = auto()  # Finnish "-toista": adds ten to the unit before it
    HUNDRED = auto()
    THOUSAND = auto()
    REPEAT = auto()  # English "double", "triple": the next digit said that many times


_FINNISH_UNITS = {
    "nolla": 0,
    "yksi": 1,
    "yks": 1,
    "kaksi": 2,
    "kaks": 2,
    "kolme": 3,
    "kol": 3,
    "neljä": 4,
    "nel": 4,
    "viisi": 5,
    "viis": 5,
    "kuusi": 6,
    "kuus": 6,
    "seitsemän": 7,
    "seittemän": 7,
    "seiska": 7,
    "seit": 7,
    "kahdeksan": 8,
    "kaheksan": 8,
    "kasi": 8,
    "yhdeksän": 9,
    "yheksän": 9,
    "ysi": 9,
    "kymmenen": 10,
}
_SWEDISH_VALUES = {
    "noll": 0,
    "nolla": 0,
    "ett": 1,
    "två": 2,
    "tre": 3,
    "fyra": 4,
    "fem": 5,
    "sex": 6,
    "sju": 7,
    "åtta": 8,
    "nio": 9,
    "tio": 10,
    "elva": 11,
    "tolv": 12,
    "tretton": 13,
    "fjorton": 14,
    "femton": 15,
    "sexton": 16,
    "sjutton": 17,
    "arton": 18,
    "aderton": 18,
    "nitton": 19,
    "tjugo": 20,
    "tju": 20,
    "trettio": 30,
    "tretti": 30,
    "fyrtio": 40,
    "förtio": 40,
    "fyrti": 40,
    "förti": 40,
    "femtio": 50,
    "femti": 50,
    "sextio": 60,
    "sexti": 60,
    "sjuttio": 70,
    "sjutti": 70,
    "åttio": 80,
    "åtti": 80,
    "nittio": 90,
    "nitti": 90,
}
_ENGLISH_VALUES = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

Morpheme = tuple[Part, int]

MORPHEMES: dict[str, dict[str, Morpheme]] = {
    "fi": {
        **{word: (Part.VALUE, value) for word, value in _FINNISH_UNITS.items()},
        "kymmentä": (Part.TENS_SUFFIX, 10),
        "kyt": (Part.TENS_SUFFIX, 10),
        "toista": (Part.TEEN_SUFFIX, 10),
        "toist": (Part.TEEN_SUFFIX, 10),
        "sata": (Part.HUNDRED, 100),
        "sataa": (Part.HUNDRED, 100),
        "tuhat": (Part.THOUSAND, 1000),
        "tuhatta": (Part.THOUSAND, 1000),
    },
    "sv": {
        **{word: (Part.VALUE, value) for word, value in _SWEDISH_VALUES.items()},
        "hundra": (Part.HUNDRED, 100),
        "tusen": (Part.THOUSAND, 1000),
    },
    "en": {
        **{word: (Part.VALUE, value) for word, value in _ENGLISH_VALUES.items()},
        "hundred": (Part.HUNDRED, 100),
        "thousand": (Part.THOUSAND, 1000),
        "double": (Part.REPEAT, 2),
        "triple": (Part.REPEAT, 3),
    },
}

# Words that are numbers only next to other number words: "oh" alone is an exclamation.
AMBIGUOUS = frozenset({"oh"})

_WORD = re.compile(r"[^\W\d_]+")
_JOINER = re.compile(r"[ \t\-]+")
# "four hundred and forty seven": English says "and" after the hundreds, inside one number.
_AFTER_HUNDRED = re.compile(r"[ \t]+and[ \t]+", re.IGNORECASE)
_GROUP_PAUSE = re.compile(r"[ \t]*,[ \t]*")


@dataclass(frozen=True)
class NormalisedText:
    """Text with spoken numbers as digits; `starts[i]`/`ends[i]` give the original span of character i."""

    text: str
    starts: list[int]
    ends: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced `text[start:end]`."""
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    parts: tuple[Morpheme, ...]


def normalise_spoken_numbers(text: str, language: str) -> NormalisedText:
    """Rewrite runs of number words as digits; other text is copied as it is."""
    runs = _number_runs(text, language)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for number, run in enumerate(runs):
        if number and _GROUP_PAUSE.fullmatch(text[position : run[0].start]):
            # Engines put commas between the groups of a number read aloud; a space keeps the groups together.
            out.append(" ")
            starts.append(position)
            ends.append(run[0].start)
            position = run[0].start
        for index in range(position, run[0].start):
            out.append(text[index])
            starts.append(index)
            ends.append(index + 1)
        for digits, start, end in _read_run(run):
            out.append(digits)
            starts.extend([start] * len(digits))
            ends.extend([end] * len(digits))
        position = run[-1].end
    for index in range(position, len(text)):
        out.append(text[index])
        starts.append(index)
        ends.append(index + 1)
    return NormalisedText("".join(out), starts, ends)


def _number_runs(text: str, language: str) -> list[list[_Word]]:
    """Maximal runs of number words joined only by spaces or hyphens."""
    runs: list[list[_Word]] = []
    current: list[_Word] = []
    for match in _WORD.finditer(text):
        parts = _split_number_word(match.group().lower(), language)
        if parts is None:
            if current and current[-1].parts[-1][0] is Part.HUNDRED and match.group().lower() == "and":
                continue  # the number may go on after it
            _close_run(current, runs, text)
            current = []
            continue
        between = text[current[-1].end : match.start()] if current else ""
        after_hundred = bool(current) and current[-1].parts[-1][0] is Part.HUNDRED and _AFTER_HUNDRED.fullmatch(between)
        if current and not _JOINER.fullmatch(between) and not after_hundred:
            _close_run(current, runs, text)
            current = []
        current.append(_Word(match.start(), match.end(), parts))
    _close_run(current, runs, text)
    return runs


def _close_run(run: list[_Word], runs: list[list[_Word]], text: str) -> None:
    if not run:
        return
    if len(run) == 1 and text[run[0].start : run[0].end].lower() in AMBIGUOUS:
        return
    if run[-1].parts[-1][0] is Part.REPEAT:
        run = run[:-1]
    if run:
        runs.append(run)


@cache
def _split_number_word(word: str, language: str) -> tuple[Morpheme, ...] | None:
    """The morphemes of a number word ("kaksikymmentäkolme" → 2, ×10, 3), or None when it is no number."""
    table = MORPHEMES.get(language)
    if not table:
        return None
    parts = _segment(word, table)
    if parts is None or not _well_formed(parts):
        return None
    return parts


def _segment(word: str, table: dict[str, Morpheme]) -> tuple[Morpheme, ...] | None:
    if not word:
        return ()
    # Longest piece first, so "kuusi" is read as six and not as "kuus" followed by a stray "i".
    for length in range(len(word), 0, -1):
        piece = table.get(word[:length])
        if piece is None:
            continue
        rest = _segment(word[length:], table)
        if rest is not None:
            return (piece, *rest)
    return None


def _well_formed(parts: tuple[Morpheme, ...]) -> bool:
    """Reject segmentations no speaker would say in one word, such as two digits glued together."""
    if len(parts) == 1:
        return True
    previous: Morpheme | None = None
    for part, value in parts:
        if part is Part.REPEAT:
            return False
        if part in (Part.TENS_SUFFIX, Part.TEEN_SUFFIX) and (previous is None or previous[0] is not Part.VALUE):
            return False
        if part is Part.VALUE and previous is not None and previous[0] is Part.VALUE:
            # Only a ten may be followed by a unit inside one word ("tjugotre", "fyrtiofem").
            tens = previous[1] >= 20 and previous[1] % 10 == 0
            if not (tens and 0 < value < 10):
                return False
        previous = (part, value)
    return True


def _read_run(run: list[_Word]) -> list[tuple[str, int, int]]:
    """The digit strings a run of number words stands for, each with its original span."""
    chunks: list[tuple[str, int, int]] = []
    value: int | None = None
    start = end = 0
    repeat = 1

    def flush() -> None:
        nonlocal value
        if value is not None:
            chunks.append((str(value), start, end))
        value = None

    for word in run:
        if word.parts[0][0] is Part.REPEAT:
            flush()
            repeat = word.parts[0][1]
            start = word.start
            continue
        if repeat > 1:
            word_value = _word_value(word.parts)
            chunks.append((str(word_value) * repeat, start, word.end))
            repeat = 1
            continue
        word_value = _word_value(word.parts)
        single_multiplier = len(word.parts) == 1 and word.parts[0][0] in (Part.HUNDRED, Part.THOUSAND)
        if value is not None and single_multiplier and 0 < value < word.parts[0][1]:
            # "four hundred", "kaksi tuhatta": the multiplier scales the number before it.
            value *= word.parts[0][1]
            end = word.end
            continue
        if value is not None and _extends(value, word_value):
            value += word_value
            end = word.end
            continue
        flush()
        value, start, end = word_value, word.start, word.end
    flush()
    return chunks


def _extends(value: int, addition: int) -> bool:
    """Whether `addition` fills an open place of `value` ("twenty" + "three", "sata" + "kaksikymmentä")."""
    if value >= 1000 and value % 1000 == 0:
        return addition < 1000
    if value >= 100 and value % 100 == 0:
        return addition < 100
    if value >= 20 and value % 10 == 0 and value % 100 != 0:
        return 0 < addition < 10
    return False


def _word_value(parts: tuple[Morpheme, ...]) -> int:
    """The cardinal value of one number word's morphemes."""
    total = 0
    current = 0
    last = 0
    for part, value in parts:
        if part is Part.VALUE:
            current += value
            last = value
        elif part is Part.TENS_SUFFIX:
            current += last * (value - 1)
            last = 0
        elif part is Part.TEEN_SUFFIX:
            current += value
            last = 0
        elif part is Part.HUNDRED:
            current = current - last + (last or 1) * value
            last = 0
        elif part is Part.THOUSAND:
            total += (current or 1) * value
            current = 0
            last = 0
    return total + current
