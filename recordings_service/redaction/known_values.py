"""A call's own identifiers in what people write about it: the customer's and the agent's refs, typed into a note.

The detectors find a customer number only after a cue ("customer number 123") and cannot tell an agent ref from
any other word; but the call says which refs are its own, so free text about it (a nomination's note, a clip's
title, tags and notes, which trainers read) loses them wherever they appear, whatever their case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from recordings_service.models import Customer, Recording
from recordings_service.redaction.findings import RANK_CUE, Hit, PiiKind


def call_identifiers(session: Session, recording: Recording) -> dict[str, PiiKind]:
    """The refs `recording` carries, each with the kind of personal data it is."""
    known = {recording.agent_ref: PiiKind.PERSON}
    if recording.customer_id is not None:
        known[session.get_one(Customer, recording.customer_id).customer_ref] = PiiKind.CUSTOMER_NUMBER
    return known


def find_known_values(text: str, known: Mapping[str, PiiKind]) -> list[Hit]:
    """Each whole-word occurrence of a known value in `text`, as certain as a cued detector's hit."""
    hits: list[Hit] = []
    for value, kind in known.items():
        if not value.strip():
            continue
        whole_word = re.compile(rf"(?<!\w){re.escape(value.strip())}(?!\w)", re.IGNORECASE)
        hits.extend(Hit(match.start(), match.end(), kind, RANK_CUE) for match in whole_word.finditer(text))
    return hits
