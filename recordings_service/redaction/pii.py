"""Finding personal data in one utterance of a transcript, and replacing it with `[KIND]` markers."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from recordings_service.redaction.addresses import find_addresses
from recordings_service.redaction.bank_accounts import find_ibans
from recordings_service.redaction.customer_numbers import find_customer_numbers
from recordings_service.redaction.emails import find_emails
from recordings_service.redaction.findings import Finding, Hit, PiiKind
from recordings_service.redaction.identity_codes import find_personal_ids
from recordings_service.redaction.known_values import find_known_values
from recordings_service.redaction.names import find_names_said_again, find_person_names
from recordings_service.redaction.payment_cards import (
    card_context,
    find_card_expiries,
    find_card_numbers,
    find_security_codes,
)
from recordings_service.redaction.phones import find_phone_numbers
from recordings_service.redaction.spoken_numbers import NormalisedText, normalise_spoken_numbers


# `context` is what was said just before, typically the agent's question on the other channel: a question about
# a card, its security code, a customer number or a name is what makes a bare answer one of those.
# `customer_number_pattern` replaces the default customer-number rule documented in `customer_numbers`.
def find_pii(
    text: str,
    language: str,
    *,
    context: str = "",
    customer_number_pattern: str | None = None,
    known: Mapping[str, PiiKind] | None = None,
    names: Collection[str] = (),
    spoken_by_agent: bool = False,
) -> list[Finding]:
    """Personal data in one utterance (`language` "fi", "sv" or "en"), sorted by start and non-overlapping;
    `known` values (a call's own refs, `known_values.call_identifiers`) wherever they appear, the `names`
    the call introduced elsewhere (`names.name_words`) wherever they are said, and, for an utterance on the
    agent's channel, the first name an agent greets with."""
    normalised = normalise_spoken_numbers(text, language)
    spoken = normalised.text
    heard_before = normalise_spoken_numbers(context, language).text if context else ""
    about_cards = card_context(spoken, heard_before)
    hits = [
        *find_security_codes(spoken, heard_before),
        *find_card_expiries(spoken, in_card_context=about_cards, context=heard_before),
        *find_customer_numbers(spoken, heard_before, customer_number_pattern),
        *find_personal_ids(spoken),
        *find_ibans(spoken),
        *find_card_numbers(spoken, in_card_context=about_cards),
        *find_emails(spoken),
        *find_phone_numbers(spoken, language),
        *find_addresses(spoken),
        *find_person_names(spoken, heard_before, spoken_by_agent=spoken_by_agent),
        *find_known_values(spoken, known or {}),
        *find_names_said_again(spoken, names, language),
    ]
    return [_finding(text, normalised, hit) for hit in _without_overlaps(hits)]


def redact_text(
    text: str,
    language: str,
    *,
    context: str = "",
    customer_number_pattern: str | None = None,
    known: Mapping[str, PiiKind] | None = None,
) -> str:
    """`text` with every finding replaced by its upper-case kind in brackets, e.g. `[CARD]`."""
    findings = find_pii(text, language, context=context, customer_number_pattern=customer_number_pattern, known=known)
    return replace_findings(text, findings)


def replace_findings(text: str, findings: list[Finding]) -> str:
    """`text` with each of `findings` (sorted, non-overlapping) replaced by its marker."""
    pieces: list[str] = []
    position = 0
    for finding in findings:
        pieces.append(text[position : finding.start])
        pieces.append(marker(finding.kind))
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def marker(kind: str) -> str:
    return f"[{kind.upper()}]"


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    """Hits that overlap made one, covering them all, of the kind the best of them names (lowest rank first, then
    the longest, then the earliest). Keeping only the best dropped the rest of the others' spans: a customer number
    taken from inside an IBAN left the IBAN's first groups readable."""
    merged: list[Hit] = []
    overlapping: list[Hit] = []
    for hit in sorted((hit for hit in hits if hit.end > hit.start), key=lambda hit: hit.start):
        if overlapping and hit.start >= max(other.end for other in overlapping):
            merged.append(_covering(overlapping))
            overlapping = []
        overlapping.append(hit)
    if overlapping:
        merged.append(_covering(overlapping))
    return merged


def _covering(hits: list[Hit]) -> Hit:
    best = min(hits, key=lambda hit: (hit.rank, hit.start - hit.end, hit.start))
    return Hit(min(hit.start for hit in hits), max(hit.end for hit in hits), best.kind, best.rank)


def _finding(text: str, normalised: NormalisedText, hit: Hit) -> Finding:
    start, end = normalised.original_span(hit.start, hit.end)
    # Detectors may end a span on a separator; the finding covers only what was said.
    while end > start and text[end - 1] in " ,.-–":
        end -= 1
    while start < end and text[start] in " ,.-–":
        start += 1
    return Finding(start=start, end=end, kind=hit.kind, value=text[start:end])
