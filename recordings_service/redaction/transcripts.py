"""The redacted twin of a transcript: personal data replaced by `[KIND]` in segment and word text, timings kept.

Each redacted segment lists its `redactions`: the kind and where it was said (`start`/`end` in seconds,
from the words' timings, or the whole segment with `timed` false when the words cannot be matched), never
the value. Audio redaction mutes those spans; the call page lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from recordings_service.redaction.findings import Finding, PiiKind
from recordings_service.redaction.names import name_words
from recordings_service.redaction.pii import find_pii, marker, replace_findings
from recordings_service.redaction.spoken_numbers import normalise_spoken_numbers
from recordings_service.word_spans import word_spans

CARD_KINDS = frozenset({"card", "card_security_code", "card_expiry"})
# What was said just before (across both channels, in time order) tells what a bare number is: the agent's
# "and the security code?" makes the customer's "731" one.
CONTEXT_SEGMENTS = 2
# A value read over several breaths (a card number in two halves) is looked for across this many of one speaker's
# segments in a row, of these kinds, unless a longer pause parts them.
SPLIT_SEGMENTS = 3
SPLIT_KINDS = frozenset({PiiKind.CARD, PiiKind.IBAN, PiiKind.PERSONAL_ID, PiiKind.PHONE})
SPLIT_PAUSE_S = 10.0
_SEPARATORS = " ,.-–"


@dataclass(frozen=True)
class Redaction:
    segment: int
    kind: str
    start_s: float
    end_s: float
    timed: bool


@dataclass(frozen=True)
class RedactedTranscript:
    twin: list[dict[str, Any]]  # every finding replaced: what trainers, partners and the search index get
    without_card_data: list[dict[str, Any]]  # only card data replaced: PCI DSS 3.3.1 forbids keeping it at all


def redact_transcript(
    segments: Sequence[dict[str, Any]], language: str, *, customer_number_pattern: str | None = None
) -> RedactedTranscript:
    """The redacted twin of `segments` (in time order), and the segments with their card data taken out.

    A name found once (after a cue, or given when asked for) is looked for again in every segment, before and
    after: the call says it later without a cue ("thank you Liisa").
    """

    def found(names: set[str]) -> list[list[Finding]]:
        return [
            find_pii(
                str(segment.get("text") or ""),
                language,
                context=_said_before(segments, index),
                customer_number_pattern=customer_number_pattern,
                names=names,
                spoken_by_agent=segment.get("speaker") == "agent",
            )
            for index, segment in enumerate(segments)
        ]

    findings = found(set())
    names = {
        word
        for found_in in findings
        for finding in found_in
        if finding.kind == PiiKind.PERSON
        for word in name_words(finding.value)
    }
    if names:
        findings = found(names)
    for index, split in enumerate(_split_values(segments, language, customer_number_pattern)):
        if split:
            findings[index] = _merged(str(segments[index].get("text") or ""), [*findings[index], *split])
    return RedactedTranscript(
        twin=[_redacted_segment(segment, found) for segment, found in zip(segments, findings, strict=True)],
        without_card_data=[
            _redacted_segment(segment, [finding for finding in found if finding.kind in CARD_KINDS])
            for segment, found in zip(segments, findings, strict=True)
        ],
    )


def _split_values(
    segments: Sequence[dict[str, Any]], language: str, customer_number_pattern: str | None
) -> list[list[Finding]]:
    """Each segment's part of a value one speaker said over two or three of their segments in a row ("4111 1111" and,
    after a breath, "1111 1111"; "Se on 040", the agent's "Joo.", "123 4567"): read one at a time, neither half was
    long enough to be a card, an IBAN, an identity code or a phone number, and the whole value stayed in the twin, the
    stored text and the unmuted original."""
    parts: list[list[Finding]] = [[] for _ in segments]
    with_digits = [_has_digits(str(segment.get("text") or ""), language) for segment in segments]
    by_speaker: dict[Any, list[int]] = {}
    for index, segment in enumerate(segments):
        by_speaker.setdefault(segment.get("speaker"), []).append(index)
    for indexes in by_speaker.values():
        for first in range(len(indexes) - 1):
            for size in range(2, SPLIT_SEGMENTS + 1):
                window = indexes[first : first + size]
                if len(window) < size or not all(with_digits[i] for i in window) or _apart(segments, window):
                    break
                _add_split(parts, segments, window, language, customer_number_pattern)
    return parts


def _has_digits(text: str, language: str) -> bool:
    return any(character.isdigit() for character in normalise_spoken_numbers(text, language).text)


def _apart(segments: Sequence[dict[str, Any]], window: list[int]) -> bool:
    """Whether a pause between two of the window's segments is too long for one value to run across it."""
    return any(
        float(segments[later].get("start") or 0) - float(segments[earlier].get("end") or 0) > SPLIT_PAUSE_S
        for earlier, later in pairwise(window)
    )


def _add_split(
    parts: list[list[Finding]],
    segments: Sequence[dict[str, Any]],
    window: list[int],
    language: str,
    customer_number_pattern: str | None,
) -> None:
    texts = [str(segments[index].get("text") or "") for index in window]
    # Joined as one utterance: a space between two segments unless the later one begins with its own.
    joined, starts = "", []
    for text in texts:
        if joined and not text[:1].isspace():
            joined += " "
        starts.append(len(joined))
        joined += text
    context = _said_before(segments, window[0])
    for finding in find_pii(joined, language, context=context, customer_number_pattern=customer_number_pattern):
        if finding.kind not in SPLIT_KINDS:
            continue
        pieces = [
            (index, max(finding.start - start, 0), min(finding.end - start, len(text)))
            for index, text, start in zip(window, texts, starts, strict=True)
            if finding.start < start + len(text) and start < finding.end
        ]
        if len(pieces) < 2:
            continue  # within one segment: found there already
        for index, start, end in pieces:
            text = str(segments[index].get("text") or "")
            said = text[start:end].strip(_SEPARATORS)
            if said:
                begins = start + text[start:end].index(said)
                parts[index].append(Finding(start=begins, end=begins + len(said), kind=finding.kind, value=said))


def _merged(text: str, findings: list[Finding]) -> list[Finding]:
    """`findings` sorted, those that overlap made one covering them all, of the weightiest one's kind."""
    merged: list[list[Finding]] = []
    for finding in sorted(findings, key=lambda finding: finding.start):
        if merged and finding.start < max(other.end for other in merged[-1]):
            merged[-1].append(finding)
        else:
            merged.append([finding])
    covering = []
    for group in merged:
        start, end = min(f.start for f in group), max(f.end for f in group)
        # Card data first (it is kept nowhere and muted), then what the split rule found, then the longest: a card's
        # second half, also a phone number's length, kept the phone's kind and stayed in the stored text, unmuted.
        kind = max(
            group,
            key=lambda f: (f.kind in CARD_KINDS, f.kind in SPLIT_KINDS, f.end - f.start),
        ).kind
        covering.append(Finding(start=start, end=end, kind=kind, value=text[start:end]))
    return covering


def _said_before(segments: Sequence[dict[str, Any]], index: int) -> str:
    return " ".join(str(before.get("text") or "") for before in segments[max(index - CONTEXT_SEGMENTS, 0) : index])


def redactions_of(segments: Sequence[dict[str, Any]]) -> list[Redaction]:
    """Where the redacted `segments` had personal data taken out, in time order."""
    return [
        Redaction(
            segment=index,
            kind=str(item["kind"]),
            start_s=float(item["start"]),
            end_s=float(item["end"]),
            timed=bool(item["timed"]),
        )
        for index, segment in enumerate(segments)
        for item in segment.get("redactions", [])
    ]


def _redacted_segment(segment: dict[str, Any], findings: list[Finding]) -> dict[str, Any]:
    text = str(segment.get("text") or "")
    words: list[dict[str, Any]] = list(segment.get("words") or [])
    spans = word_spans(text, [str(word.get("text") or "") for word in words])
    redactions = []
    covered: dict[int, Finding] = {}  # word index -> the finding it falls in
    for finding in findings:
        inside = [i for i, (start, end) in enumerate(spans or []) if start < finding.end and finding.start < end]
        for i in inside:
            covered.setdefault(i, finding)
        if inside:
            start_s, end_s, timed = words[inside[0]]["start"], words[inside[-1]]["end"], True
        else:
            start_s, end_s, timed = segment["start"], segment["end"], False
        redactions.append({"kind": str(finding.kind), "start": start_s, "end": end_s, "timed": timed})
    return {
        **segment,
        "text": replace_findings(text, findings),
        # Words that do not spell the text cannot say which of them held what was removed: none are kept.
        "words": _redacted_words(words, covered) if spans is not None or not findings else [],
        "redactions": redactions,
    }


def _redacted_words(words: list[dict[str, Any]], covered: dict[int, Finding]) -> list[dict[str, Any]]:
    """The words with each finding's words merged into one `[KIND]` word spanning their timings."""
    redacted: list[dict[str, Any]] = []
    for index, word in enumerate(words):
        finding = covered.get(index)
        if finding is None:
            redacted.append(word)
        elif index == 0 or covered.get(index - 1) is not finding:
            redacted.append({**word, "text": " " + marker(finding.kind)})
        else:
            merged = redacted[-1]
            merged["end"] = word["end"]
            merged["probability"] = min(merged.get("probability", 1.0), word.get("probability", 1.0))
    return redacted
