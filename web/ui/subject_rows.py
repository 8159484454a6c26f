"""How a subject request's page shows what was done: each correction in words, each call an erasure kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from recordings_service.models import SubjectCorrection
from web.i18n import DIRECTION_LABELS, language_label

# What a correction changed, as the form that made it names it.
CORRECTED_FIELDS: dict[str, LazyString] = {
    "language": _l("Language"),
    "direction": _l("Direction"),
    "notice_given": _l("Recording notice given"),
    "agreement_made": _l("Agreement made"),
    "queue": _l("Queue"),
}


def correction_row(correction: SubjectCorrection) -> dict[str, Any]:
    """A stored correction as the reader reads it: the field's label, and its values in words, not `True`/`None`."""
    if correction.field == "segment":
        what = f"{gettext('Transcript')}, {gettext('segment')} {correction.segment}"
    else:
        what = str(CORRECTED_FIELDS.get(correction.field, correction.field))
    return {
        "recording_id": correction.recording_id,
        "what": what,
        "previous": corrected_value(correction.field, correction.previous),
        "value": corrected_value(correction.field, correction.value),
        "corrected_at": correction.corrected_at,
    }


def corrected_value(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None:
        return gettext("unknown") if field in ("agreement_made", "notice_given") else ""
    if field == "language":
        return language_label(str(value))
    if field == "direction":
        return str(DIRECTION_LABELS.get(str(value), value))
    return str(value)


def kept_row(kept: dict[str, Any]) -> dict[str, Any]:
    """A call an erasure kept, with the end of its agreement period as a time (shown as a date in the reader's
    language, in the organisation's time zone), not the stored ISO text."""
    until = kept.get("until")
    return {**kept, "until": datetime.fromisoformat(until) if until else None}
