"""One key for matching names and tags (`caseless_key`): a queue's or agent's key and a tag's are the same form, and
no character's key is longer than the three characters the queue and agent keys' columns allow for each."""

from __future__ import annotations

import sys
import unicodedata

from recordings_service.calls.tags import tag_key
from recordings_service.caseless_keys import caseless_key
from recordings_service.models.recording import KEY_WIDTH, name_key


def test_names_and_tags_are_keyed_alike() -> None:
    for typed in ("SÄHKÖ", unicodedata.normalize("NFD", "Sähkö"), "\u03aa\u0301", "\u0390", "Straße"):
        assert name_key(typed) == tag_key(typed) == caseless_key(typed)
    assert name_key("SÄHKÖ") == name_key(unicodedata.normalize("NFD", "sähkö")) == "sähkö"
    assert name_key("\u03aa\u0301") == name_key("\u0390") == "\u0390"


def test_no_characters_key_is_longer_than_the_key_columns_allow() -> None:
    # Composing can undo what folding keeps one character (U+FB2C, a Hebrew presentation form, is three decomposed,
    # and no composition makes it one again): the widest is three, as folding alone made ("ﬃ" is "ffi").
    widths = {len(caseless_key(chr(point))) for point in range(sys.maxunicode + 1) if not 0xD800 <= point <= 0xDFFF}
    assert max(widths) == KEY_WIDTH
    assert len(caseless_key("\ufb2c")) == KEY_WIDTH
