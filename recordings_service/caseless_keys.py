"""The key a name or a tag is matched by: one for every spelling of it in any letter case and either Unicode form."""

from __future__ import annotations

import unicodedata


def caseless_key(text: str) -> str:
    """`text` in Unicode's canonical caseless form, kept composed: decomposed (NFD), case folded, composed (NFC)."""
    # Unicode's canonical caseless match (NFD, fold, NFD again: D145), kept composed, the shorter form: folding case
    # alone kept "ä" and "a" + U+0308 (a Mac's keyboard, text pasted from a PDF) apart, and folding a composed letter
    # can leave it decomposed (the capital "Ϊ" + U+0301 folds to "ϊ" + U+0301, the small "ΐ" to
    # "ι" + U+0308 + U+0301: one letter, and one key). At most three characters for one ("ﬃ" folds to "ffi", a Hebrew
    # presentation form or a Devanagari letter with nukta decomposes), as folding alone made it.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())
