"""Where a segment's words sit in its text.

The engines keep each word stripped of the space Whisper puts before it, so only the segment's own text still says
which piece continues the word before it ("8" + ".9", "kilowatt" + "-hour"): a run of words is read from that text
(redaction maps findings onto words this way; a clip's lines and a segment split across regions are cut from it).
"""

from __future__ import annotations

from collections.abc import Sequence


def word_spans(text: str, said: Sequence[str]) -> list[tuple[int, int]] | None:
    """Each word's character span in `text`, or None when the words do not spell the text."""
    spans = []
    position = 0
    for piece in said:
        word = piece.strip()
        start = text.find(word, position) if word else -1
        if start < 0:
            return None
        spans.append((start, start + len(word)))
        position = start + len(word)
    return spans


def words_as_written(text: str, said: Sequence[str], first: int, last: int) -> str:
    """Words `first` to `last` (inclusive) as `text` writes them; where the words do not spell it, which says
    nothing of where a word ends, joined by one space, which reads best."""
    spans = word_spans(text, said)
    if spans is not None:
        return text[spans[first][0] : spans[last][1]]
    return " ".join(word for word in (each.strip() for each in said[first : last + 1]) if word)
