"""A snippet's highlight marks read into (text, highlighted) pieces, and a quoted phrase's kept where it is said."""

from __future__ import annotations

import re
from collections.abc import Sequence

from recordings_service.transcription.search_index import DIGIT_MARK, MARK_END, MARK_START

# What unicode61 indexes as a token, and the search reads as one: letters and digits (the underscore separates words).
WORD_TOKEN = re.compile(r"[^\W_]+")

Parts = tuple[tuple[str, bool], ...]


def tokens_of(words: str) -> list[str]:
    """The tokens of `words`, in lower case."""
    return [token.lower() for token in WORD_TOKEN.findall(words)]


def marked_parts(snippet: str) -> Parts:
    """Split a snippet with highlight marks into (text, highlighted) pieces."""
    parts: list[tuple[str, bool]] = []
    highlighted = False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", snippet.replace(DIGIT_MARK, "")):
        if piece == MARK_START:
            highlighted = True
        elif piece == MARK_END:
            highlighted = False
        elif piece:
            parts.append((piece, highlighted))
    return tuple(parts)


def said_together(parts: Parts, phrases: Sequence[str]) -> Parts:
    """The pieces with only the runs of highlighted words said together (nothing but spaces and punctuation between
    them) that hold as many tokens, and as many different ones, as the shortest of the `phrases` still highlighted:
    PostgreSQL's `ts_headline` marks each word of a phrase wherever the passage says it (every "the" of `"the
    contract"`, "Ei ei" for `"ei halua"`), where FTS5 marks the phrase. A word of the phrase said just before it
    stays marked with it ("Ei, ei halua"): the words are not compared, being said in other forms than searched."""
    min_tokens = min(len(tokens_of(phrase)) for phrase in phrases)
    min_different = min(len(set(tokens_of(phrase))) for phrase in phrases)
    runs: list[list[int]] = []
    run: list[int] = []
    for index, (piece, highlighted) in enumerate(parts):
        if highlighted:
            run.append(index)
        elif WORD_TOKEN.search(piece) and run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    too_short = set()
    for run in runs:
        said = [token for index in run for token in tokens_of(parts[index][0])]
        if len(said) < min_tokens or len(set(said)) < min_different:
            too_short.update(run)
    merged: list[tuple[str, bool]] = []
    for index, (piece, highlighted) in enumerate(parts):
        kept = highlighted and index not in too_short
        if merged and merged[-1][1] == kept:
            merged[-1] = (merged[-1][0] + piece, kept)
        else:
            merged.append((piece, kept))
    return tuple(merged)
