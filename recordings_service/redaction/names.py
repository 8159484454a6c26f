"""People's names where a speaker introduces them ("nimeni on", "jag heter", "my name is"), spells them out,
or gives one when the question just before asked for it.

Best effort: a name is one to three capitalised words right after a cue, so it relies on the engine
capitalising names, as Whisper does. Weak cues ("olen", "jag är", "I'm", "this is") need a first and a last
name, since they are just as often followed by a place or a company; on the agent's channel they take a first
name alone, because that is how an agent greets ("this is Anna", "olen Anna", "Anna tässä"), and an agent's
name in a transcript would undo the pseudonym trainers and research partners see the agent by.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from recordings_service.redaction.findings import RANK_BEST_EFFORT, Hit, PiiKind

# An inner capital after a prefix or an apostrophe is part of the name: "McDonald", "O'Brien", "DeVries".
_CAPITALISED = r"[A-ZÅÄÖÜÉ][a-zåäöüéèšž']+(?:[A-ZÅÄÖÜÉ][a-zåäöüéèšž']+)?(?:-[A-ZÅÄÖÜÉ][a-zåäöüéèšž']+)?"
_NAME = rf"(?-i:{_CAPITALISED}(?:[ ](?:(?:af|von|van|de)[ ])?{_CAPITALISED}){{0,2}})"
_FULL_NAME = rf"(?-i:{_CAPITALISED}(?:[ ](?:(?:af|von|van|de)[ ])?{_CAPITALISED}){{1,2}})"

_STRONG_CUES = (
    r"nimeni on|nimi on|nimensä on|nimellä|tässä puhuu|täällä puhuu|puhelimessa on|soittaja on|mä oon|mää oon"
    r"|jag heter|heter|mitt namn är|namnet är|hennes namn är|hans namn är|det här är|det är"
    r"|my name is|name is|name's|called|on behalf of|account holder is|in the name of|speaking with"
)
_WEAK_CUES = r"olen|oon|jag är|här är|this is|i'm|i am|tässä on"
# Who a note or an agent speaks of: "Asiakas Liisa Virtanen", "customer Jussi Pekkala called". Followed by a first
# and a last name only, as a weak cue is (found by a privacy pass: staff's notes for trainers kept such names).
_PARTY_CUES = (
    r"asiakas|asiakkaan|asiakkaalle|customer|customer's|kund|kunden|caller|soittaja|soittajan"
    # A third party the caller speaks of: "naapurini Matti Meikäläinen", "my wife's name, Mary Smith".
    r"|naapuri\w*|neighbou?r(?:'s)?|granne[n]?|grannens|(?:wife|husband|partner|mother|father)'s name"
)
# A relative or partner introduced as the third party the call is about: "isäni Veikko Mäkelän asioista".
_RELATIVES = (
    r"äitini|isäni|vaimoni|mieheni|puolisoni|poikani|tyttäreni|veljeni|siskoni|äiti|isä"
    r"|min (?:mamma|pappa|mor|far|man|fru|son|dotter|bror|syster|sambo)"
    r"|my (?:mother|mum|mom|father|dad|wife|husband|partner|son|daughter|brother|sister)"
)
# A name followed by "tässä"/"här"/"here" is how a caller often opens: "Mikko Koskinen tässä".
_SELF_INTRODUCTION_AFTER = r"tässä|täällä|här|here"
_BEFORE_CUE = (
    rf"(?:\b(?:{_STRONG_CUES})\b[ ,:]*(?P<strong>{_NAME})|\b(?:{_WEAK_CUES})\b[ ,:]*(?P<weak>{_FULL_NAME})"
    rf"|\b(?:{_PARTY_CUES})(?!\w)[ ,:]*(?P<party>{_FULL_NAME}))"
)
_AFTER_NAME = (
    rf"(?P<before>{_FULL_NAME}|{_NAME})(?:[:']?n)?[ ](?:puolesta|nimissä|nimiin|nimellä|vägnar|räkning)\b"
    rf"|(?P<opening>{_FULL_NAME})[ ,]+(?:{_SELF_INTRODUCTION_AFTER})\b"
)
_RELATIVE = rf"\b(?:{_RELATIVES})\b[ ,:]*(?P<relative>{_NAME})"
_CUED = re.compile(rf"{_BEFORE_CUE}|{_AFTER_NAME}|{_RELATIVE}", re.IGNORECASE)
# "Anna tässä." / "Anna here, how can I help?": the word after the name ends the clause. "Selvä, tässä on…",
# "Lasku tässä näyttää…" and "Tuesday here works" made ordinary words names, redacted all through the call.
_AGENT_INTRODUCTION = re.compile(
    rf"\b(?:{_WEAK_CUES})\b[ ,:]*(?P<weak>{_NAME})"
    rf"|(?P<opening>{_NAME})[ ]+(?:{_SELF_INTRODUCTION_AFTER}|puhelimessa|speaking)(?=[ ]*(?:[,.!?]|$))"
    # "…asiakaspalvelu, tässä Anna." / "du pratar med Anna"
    rf"|\b(?:tässä|du pratar med|you're speaking (?:to|with))[ ,]+(?P<named>{_NAME})(?=[ ]*(?:[,.!?]|$))",
    re.IGNORECASE,
)
_SPELLED = re.compile(r"(?<![\w-])[A-ZÅÄÖ](?:[-][A-ZÅÄÖ]){3,}(?![\w-])|(?<!\w)[A-ZÅÄÖ](?:[ ,]{1,2}[A-ZÅÄÖ]){3,}(?!\w)")

# Capitalised words that follow the cues without being names: companies, places, days, courtesies.
_NOT_NAMES = frozenset(
    {
        "oy", "oyj", "ab", "ltd", "asiakaspalvelu", "asiakaspalvelusta", "asiakaspalvelussa", "kundtjänst",
        "customer", "service", "energia", "energy", "el", "sähkö", "helsinki", "helsingistä", "stockholm",
        "tampere", "turku", "espoo", "vantaa", "oulu", "finland", "suomi", "sverige", "sweden", "hei", "moi",
        "hej", "hello", "hi", "kiitos", "tack", "thanks", "okei", "ok", "joo", "ja", "nej", "no", "yes", "kyllä",
        "maanantai", "tiistai", "monday", "friday", "sorry", "just", "the", "a", "valoverkko", "i",
        # Sentence openers, which an answer to "what is your name?" starts with as often as with the name.
        "se", "det", "it's", "its", "it", "that's", "yeah", "well", "okay", "sure", "niin", "eli", "jaa",
        "my", "mun", "minun", "min", "mitt", "siis",
        "visa", "mastercard", "maestro", "amex", "american", "express",
        # What "I'm …" says of a speaker other than a name, capitalised in English.
        "finnish", "swedish", "english", "afraid",
        # What follows "customer" in English without being a name ("Customer Service Center", "Customer Care Team").
        "center", "centre", "care", "support", "desk", "team", "portal", "relations", "experience", "number", "id",
        # Questions and requests that open a sentence after an answer ("Mikä on puhelinnumeronne?", "Call me at").
        "mikä", "mitä", "missä", "mihin", "milloin", "miten", "kuinka", "kuka", "onko", "voisitteko", "voitteko",
        "what", "where", "when", "how", "could", "can", "would", "please", "call", "vad", "var", "när", "hur",
        "vem", "kan", "ring", "numeroni", "numero", "selvä", "hetkinen", "hetki", "katsotaan", "moment",
        "and", "but", "so", "i'm", "mutta", "och", "men",
    }
)  # fmt: skip


# A request for a name just before makes the capitalised words opening the answer a name: the cue in the last sentence
# said (or in a question an answer's unfinished first half follows), unless that sentence gives the speaker's own name.
# "Nimeni on Liisa Virtanen." made the first words of the next two segments names ("[PERSON] on puhelinnumeronne?"),
# and a question two sentences back the agent's next one ("What is the [PERSON] number?"); a request ending in a full
# stop ("Kertoisitteko nimenne.", "Your full name, please.") still counts.
_NAME_CUE = re.compile(r"nime\w*|nimi\w*|\bname\b|\bnamn\w*|heter|who am i speaking|kenen", re.IGNORECASE)
_OWN_NAME = re.compile(r"\b(?:nimeni|minun nimi|my name|mitt namn|jag heter)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CAPITALISED_RUN = re.compile(rf"(?-i:{_CAPITALISED})(?:,?[ ](?-i:{_CAPITALISED}))*")
_NAME_WORD = re.compile(_CAPITALISED)
_FIRST_SENTENCE = re.compile(r"[^.!?]*[.!?]")
_WORDS_BEFORE_ANSWER = 4


def find_person_names(text: str, context: str = "", *, spoken_by_agent: bool = False) -> list[Hit]:
    """Names after an introducing cue, before "puolesta"/"nimissä", spelled out, or given when asked for; on the
    agent's channel (`spoken_by_agent`) a first name after a weak cue too."""
    hits: list[Hit] = []
    if _asked_for_name(context):
        # The answer opens with the name ("Liisa Virtanen", "Se on Liisa Virtanen", "It's Mike Ross"): every
        # capitalised word of the next two segments was one ("And I'm calling about the Invoice").
        answer = _FIRST_SENTENCE.match(text)
        for match in _CAPITALISED_RUN.finditer(text, 0, answer.end() if answer else len(text)):
            if len(text[: match.start()].split()) > _WORDS_BEFORE_ANSWER:
                break
            span = _trim(text, match.start(), match.end())
            if span is not None:
                hits.append(Hit(span[0], span[1], PiiKind.PERSON, RANK_BEST_EFFORT))
    for cued in (_CUED, _AGENT_INTRODUCTION) if spoken_by_agent else (_CUED,):
        for match in cued.finditer(text):
            group = next(name for name in cued.groupindex if match[name] is not None)
            span = _trim(text, match.start(group), match.end(group))
            if span is not None:
                hits.append(Hit(span[0], span[1], PiiKind.PERSON, RANK_BEST_EFFORT))
    hits.extend(Hit(match.start(), match.end(), PiiKind.PERSON, RANK_BEST_EFFORT) for match in _SPELLED.finditer(text))
    return hits


def _asked_for_name(context: str) -> bool:
    sentences = _SENTENCE_END.split(context.strip())
    last = sentences[-1]
    if len(sentences) > 1 and not last.endswith((".", "!", "?")) and sentences[-2].endswith("?"):
        last = sentences[-2]  # "Mikä on nimenne? Liisa": the answer's first half follows the question
    return bool(_NAME_CUE.search(last)) and not _OWN_NAME.search(last)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without leading or trailing words that are not names; None when nothing name-like is left."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and words[-1].group().lower().strip("',") in _NOT_NAMES:
        words.pop()
    while words and words[0].group().lower().strip("',") in _NOT_NAMES:
        words.pop(0)
    if not words:
        return None
    return start + words[0].start(), start + words[-1].end()


def name_words(name: str) -> set[str]:
    """The given and family names in a name found in a call: how the call may say it again ("Liisa", "Mäkinen")."""
    return {word for word in _NAME_WORD.findall(name) if word.lower() not in _NOT_NAMES}


def find_names_said_again(text: str, names: Collection[str], language: str = "") -> list[Hit]:
    """Each mention of one of `names` (the call's `name_words`): the agent's "thank you Liisa" after the customer's
    "my name is Liisa Mäkinen" has no cue of its own. A word is matched as a name is written (capitalised, or in
    capitals: "ÅSA ÖBERG"), and inflected in Finnish ("Liisalle", "Virtasen") and Swedish ("Åsas"); two or more of
    them in a row in any case ("john smith"). One word in lower case is left, as most given names are words too
    ("anna" is Finnish for "give", "will" English)."""
    if not names:
        return []
    words = sorted(names, key=len, reverse=True)
    said = "|".join(map(re.escape, [*words, *(word.upper() for word in words)]))
    patterns = [rf"(?<!\w)(?:{said})(?!\w)", rf"(?<!\w)(?i:(?:{said})(?:[ ]+(?:{said}))+)(?!\w)"]
    if language == "fi":
        # Case endings on the name, and on a -nen name's stem ("Virtanen": "Virtasen", "Virtaselle").
        stems = "|".join(re.escape(word[:-3] + "s" if word.endswith("nen") else word) for word in words)
        patterns.append(rf"(?<!\w)(?:{stems})[a-zåäö]{{1,6}}(?!\w)")
    elif language == "sv":
        patterns.append(rf"(?<!\w)(?:{said})s(?!\w)")
    return [
        Hit(match.start(), match.end(), PiiKind.PERSON, RANK_BEST_EFFORT)
        for pattern in patterns
        for match in re.finditer(pattern, text)
    ]
