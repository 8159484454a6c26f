"""Payment cards: numbers (Luhn via python-stdnum, or any long digit run once the talk is about a card),
security codes after their cue, and expiry dates near card talk."""

from __future__ import annotations

import re

from stdnum import luhn

from recordings_service.redaction.findings import RANK_CHECKSUM, RANK_CUE, Hit, PiiKind

CARD_CONTEXT = re.compile(
    r"kortin ?numero|korttinumero|luottokort|pankkikort|debitkort|maksukort|kortti|kortin|kortilla|kortille"
    r"|kortnum\w*|kreditkort\w*|bankkort\w*|betalkort\w*|kortet|kortets"
    r"|card|\bVisa\b|visa electron|mastercard|master card|maestro|american express|\bamex\b",
    re.IGNORECASE,
)
# "Visa" is also Swedish for "show" and Finnish for "quiz": only the capitalised brand counts.
_LOWERCASE_VISA = re.compile(r"\bvisa\b")

SECURITY_CODE_CUE = re.compile(
    r"turvakoodi\w*|tarkistusnumer\w*|tarkistuskoodi\w*|turvanumer\w*|turvaluku\w*|\bCVV2?\b|\bCVC2?\b|\bCV2\b"
    r"|säkerhetskod\w*|kontrollsiffr\w*|kontrollkod\w*|security code|verification code|card code"
    r"|(?:three|four|3|4|kolme|neljä|tre|fyra) (?:digits|numbers|numeroa|numerot|siffrorna|siffror)"
    r" (?:on the back|kortin takana|takana|takapuolella|på baksidan)"
    r"|takana olevat (?:kolme|3) numeroa|på baksidan"
    r"|(?:three|four|3|4)[- ]digit code|code on the back|(?:kolmi|neli)numeroinen koodi|takapuolen \w* ?koodi",
    re.IGNORECASE,
)
# The code may come a few words after its cue ("turvakoodi, hetkinen, se on 437"), its digits written apart.
_SECURITY_CODE_AFTER_CUE = re.compile(
    r"\D{0,40}?(?<![\d,.])(?P<code>\d(?:[ ]?\d){2,3})(?![\d,.]\d|[ ]\d)(?!\s?(?:€|e\b|eur|kr|%))"
)
# Its digits may be written apart, as read ("Se on 4 4 7.").
_LONE_CODE = re.compile(r"(?<![\d,./:-])(?P<code>\d(?:[ ]?\d){2,3})(?![\d,./:]\d|[ ]\d)(?!\s?(?:€|e\b|eur|kr|%))")

# Engines write a "zero" read aloud as a look-alike word; inside a card number it still stands for a digit.
_MISHEARD_DIGIT = r"(?:\d|\b(?:nero|hero|zero|zeros)\b)"
# Between the groups of a number read aloud people say "then", "sitten", "ja", "och sen".
_GROUP_FILLER = r"(?:(?:ja|ja sitten|sitten|sit|then|and|and then|och|och sen|sen|sedan)[ \t,]{1,2})?"
_CONTEXT_RUN = re.compile(rf"{_MISHEARD_DIGIT}(?:[ \t,.\-–]{{0,3}}{_GROUP_FILLER}{_MISHEARD_DIGIT})*", re.IGNORECASE)
_DIGIT_GROUPS = re.compile(r"(?<![\d,.])\d+(?:[ \-]\d+)*(?![\d])")
# A card read in groups of four with a pause the engine writes as a comma or stops ("4111, 1111. 1111... 1111"):
# the groups' length and Luhn keep amounts and dates out.
_PUNCTUATED_GROUPS = re.compile(r"(?<![\d,.])\d{4}(?:(?:[,.]{1,3}[ ]?|[ \-])\d{3,6}){2,4}(?!\d)")
_MISHEARD_WORD = re.compile(r"[^\W\d_]+")
# Numbers a utility's customers read out that are long and may pass Luhn by chance: invoice references,
# metering-point ids (GSRN, "käyttöpaikka"), meter, order and contract numbers.
_OTHER_NUMBER_CUE = re.compile(
    r"(?:viite\w*|reference|referens\w*|ocr|tilaus\w*|order\w*|mittar\w*|meter|mätar\w*|käyttöpaik\w*|gsrn"
    r"|anläggning\w*|mätpunkt\w*|metering point|sopimus\w*|contract|avtal\w*|lasku\w*|invoice|faktur\w*)"
    r"[^.!?\d]{0,25}$",
    re.IGNORECASE,
)

_FINNISH_MONTHS = r"(?:tammi|helmi|maalis|huhti|touko|kesä|heinä|elo|syys|loka|marras|joulu)kuu"
_OTHER_MONTHS = (
    r"januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
    r"|january|february|march|may|june|july|august|october"
)
_EXPIRY_CUE = (
    r"voimassa\w*|vanhenee|erääntyy|päättyy|expires?|expiry(?: date)?|expiration(?: date)?"
    r"|valid(?: until| thru| through)?|good thru|giltig\w*(?: till| t\.o\.m\.?)?|går ut"
)
_YEAR = r"(?:20)?\d{2}(?!\d)"
_ASKED_EXPIRY = re.compile(rf"(?:{_EXPIRY_CUE})[^.!?]*(?:\?[^.!?]*)?$", re.IGNORECASE)
_ANSWERED_EXPIRY = re.compile(r"(?<![\d.,/])(?P<date>(?:0?[1-9]|1[0-2])[ ./-]?(?:\d{2}|20\d{2}))(?![\d.,/]?\d)")
# A month and year saying when something happened ("paid by card in May 2024", "sopimus alkoi maaliskuu 2024") is no
# expiry: taken for one, it was cut from the stored transcript and muted in the original as card data.
_WHEN_BEFORE = re.compile(
    r"\b(?:in|since|from|until|during|i|sedan|från|under|vuonna|alkoi|alkaen|lähtien|started|began|paid|maksoin"
    r"|betalade)\W{1,3}$",
    re.IGNORECASE,
)
_EXPIRY = re.compile(
    rf"(?<![\d./])(?P<slash>(?:0?[1-9]|1[0-2]) ?/ ?(?:\d{{2}}|20\d{{2}}))(?![\d./]\d)(?!/)"
    # A month and year alone is an expiry in card talk ("joulukuu 2028"); an inflected Finnish month
    # ("joulukuussa") only after an expiry cue, as a card payment made in some month is no expiry.
    rf"|(?P<month>\b(?:{_FINNISH_MONTHS}(?:ta)?|{_OTHER_MONTHS}) {_YEAR})"
    rf"|(?:{_EXPIRY_CUE})\W{{1,3}}(?:\w+ ){{0,2}}?(?P<cued_month>\b(?:{_FINNISH_MONTHS}\w*|{_OTHER_MONTHS}) {_YEAR})"
    # Read aloud after a cue the engine may write "12 28" or, joined, "1228".
    rf"|(?:{_EXPIRY_CUE})\W{{1,3}}(?:\w+ ){{0,2}}?"
    rf"(?P<spoken>(?<![\d.])(?:0?[1-9]|1[0-2])[ .-]?(?:\d{{2}}|20\d{{2}})(?![\d.,]\d))",
    re.IGNORECASE,
)


def card_context(text: str, context: str) -> bool:
    """Whether the utterance or what was said just before is about a payment card."""
    return any(_talks_about_cards(part) for part in (text, context))


def _talks_about_cards(text: str) -> bool:
    for match in CARD_CONTEXT.finditer(text):
        if match.group().lower() == "visa" and _LOWERCASE_VISA.fullmatch(match.group()):
            continue
        return True
    return False


def find_card_numbers(text: str, *, in_card_context: bool) -> list[Hit]:
    """Card numbers: Luhn-valid digit groups, and in card talk any run of twelve or more digits."""
    hits: list[Hit] = []
    for match in (*_DIGIT_GROUPS.finditer(text), *_PUNCTUATED_GROUPS.finditer(text)):
        if not in_card_context and _OTHER_NUMBER_CUE.search(text, 0, match.start()):
            continue
        hit = _luhn_card(match)
        if hit is not None:
            hits.append(hit)
    if in_card_context:
        # Engines mangle numbers read aloud (a thousands separator, a dropped or doubled digit): in card
        # talk a long digit run is a card even when its checksum fails.
        for match in _CONTEXT_RUN.finditer(text):
            digits = sum(1 for _ in re.finditer(r"\d", match.group())) + len(_MISHEARD_WORD.findall(match.group()))
            if digits >= 12:
                hits.append(Hit(match.start(), match.end(), PiiKind.CARD, RANK_CHECKSUM))
    return hits


def _luhn_card(match: re.Match[str]) -> Hit | None:
    """The longest group-aligned stretch of 13-19 digits with a card's first digit and a valid Luhn sum."""
    groups = [(group.start(), group.end()) for group in re.finditer(r"\d+", match.group())]
    best: tuple[int, int] | None = None
    for first in range(len(groups)):
        for last in range(len(groups) - 1, first - 1, -1):
            start, end = match.start() + groups[first][0], match.start() + groups[last][1]
            digits = re.sub(r"\D", "", match.string[start:end])
            # Issuers' numbers start with 2-6; a checksum-valid run starting otherwise is some other number.
            if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits):
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
                break
    if best is None:
        return None
    return Hit(best[0], best[1], PiiKind.CARD, RANK_CHECKSUM)


def find_security_codes(text: str, context: str) -> list[Hit]:
    """Three or four digits after a security-code cue, or alone in an answer to a question naming one."""
    hits: list[Hit] = []
    for cue in SECURITY_CODE_CUE.finditer(text):
        match = _SECURITY_CODE_AFTER_CUE.match(text, cue.end())
        if match is not None:
            hits.append(Hit(match.start("code"), match.end("code"), PiiKind.CARD_SECURITY_CODE, RANK_CUE))
    if not hits and SECURITY_CODE_CUE.search(context):
        codes = list(_LONE_CODE.finditer(text))
        if len(codes) == 1:
            hits.append(Hit(codes[0].start("code"), codes[0].end("code"), PiiKind.CARD_SECURITY_CODE, RANK_CUE))
    return hits


def find_card_expiries(text: str, *, in_card_context: bool, context: str = "") -> list[Hit]:
    """Expiry dates (12/28, joulukuu 2028, "voimassa 12 28") where the talk is about a card, and a month and year
    alone answering a question about the expiry ("Milloin kortti vanhenee?" "Se on 12 28.")."""
    if not in_card_context:
        return []
    if _ASKED_EXPIRY.search(context):
        answers = list(_ANSWERED_EXPIRY.finditer(text))
        if len(answers) == 1:
            return [Hit(answers[0].start("date"), answers[0].end("date"), PiiKind.CARD_EXPIRY, RANK_CUE)]
    hits: list[Hit] = []
    for match in _EXPIRY.finditer(text):
        group = next(name for name in ("slash", "month", "cued_month", "spoken") if match[name] is not None)
        if group == "month" and _WHEN_BEFORE.search(text, 0, match.start(group)):
            continue
        hits.append(Hit(match.start(group), match.end(group), PiiKind.CARD_EXPIRY, RANK_CUE))
    return hits
