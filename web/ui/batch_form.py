"""The research batch selection form: filled in anew or from another batch, and read back as the service's request.

Its access window is typed on the organisation's clock (`organisation_moment`). A time the clock change makes
ambiguous is read as the form was filled in with it: each window field has a hidden `<name>_fold` beside it (PEP 495's
fold: 1 for the second of the two readings), so a copied batch's window reads back as the same moments.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from recordings_service.errors import Invalid, invalid_from
from recordings_service.research import batches
from recordings_service.research.batches import METADATA_FIELDS, BatchRequest
from recordings_service.research.selection import BatchCriteria
from web.database import db
from web.i18n import organisation_moment, organisation_timezone, organisation_today, organisation_zone
from web.ui.criteria_lists import list_refusal, listed

WINDOW_FIELDS = ("access_start", "access_end")
TEXT_FIELDS = (
    *("study", "purpose", "institute_id", "from", "to", "queues", "languages", "min_duration_s", "max_duration_s"),
    *("sample_size", "seed", "study_end", *WINDOW_FIELDS, "audio"),
    *(f"{name}_fold" for name in WINDOW_FIELDS),
)
DIRECTIONS = ("inbound", "outbound")
# The stored criteria a copied batch's form shows as they are (`copied_form`).
COPIED_CRITERIA = ("from", "to", "sample_size", "seed", "min_duration_s", "max_duration_s")
LOCAL_MINUTES = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> sends


def form_defaults(institute_id: str) -> dict[str, object]:
    """A form ready to adjust: the last 30 days of calls, a fresh random seed, a 30-day access window from now, all
    on the organisation's calendar and clock (the form reads them so)."""
    today = organisation_today()
    start = datetime.now(organisation_zone()).replace(second=0, microsecond=0)
    return {
        "institute_id": institute_id,
        "from": (today - timedelta(days=30)).isoformat(),
        "to": today.isoformat(),
        "sample_size": "50",
        "seed": str(secrets.randbelow(2**31)),
        "study_end": (today + timedelta(days=180)).isoformat(),
        **_window(start, start + timedelta(days=30)),
        "audio": "redacted",
        "directions": list(DIRECTIONS),
        "metadata_fields": list(METADATA_FIELDS),
    }


def copied_form(batch_id: str) -> dict[str, object]:
    """The form as another batch was selected (its seed too, so the same calls are drawn again where nothing
    changed): to correct a draft's typo after rejecting it, or to select again for a study that goes on."""
    batch = batches.get_batch(db(), batch_id)
    criteria = batch.criteria
    return {
        "study": batch.study,
        "purpose": batch.purpose,
        "institute_id": batch.institute_id,
        # A value of 0 is kept: seed 0 read as none drew another sample.
        **{name: "" if criteria.get(name) is None else str(criteria[name]) for name in COPIED_CRITERIA},
        **{name: ", ".join(criteria.get(name) or []) for name in ("queues", "languages")},
        "directions": list(criteria.get("directions") or DIRECTIONS),
        "study_end": batch.study_end.isoformat(),
        **_window(batch.access_start, batch.access_end),
        "audio": batch.audio,
        "metadata_fields": list(batch.metadata_fields),
    }


def batch_request(form: MultiDict[str, str]) -> BatchRequest:
    """The form as the service's request; an unreadable value is an `Invalid` naming its field."""
    directions = [value for value in form.getlist("directions") if value]
    raw = {
        "from": form.get("from", ""),
        "to": form.get("to", ""),
        "queues": listed(form.get("queues", "")),
        "languages": listed(form.get("languages", "")),
        "directions": directions or None,
        "min_duration_s": form.get("min_duration_s", "").strip() or None,
        "max_duration_s": form.get("max_duration_s", "").strip() or None,
        "sample_size": form.get("sample_size", "").strip(),
        "seed": form.get("seed", "").strip() or str(secrets.randbelow(2**31)),
        # The dates are days of the organisation's calendar, as every page shows the calls' times.
        "timezone": organisation_timezone(),
    }
    try:
        criteria = BatchCriteria.model_validate(raw)
    except ValidationError as exc:
        raise list_refusal(invalid_from(exc)) from None
    return BatchRequest(
        study=form.get("study", ""),
        purpose=form.get("purpose", ""),
        institute_id=form.get("institute_id", ""),
        criteria=criteria,
        study_end=_date(form, "study_end"),
        access_start=_organisation_minute(form, "access_start"),
        access_end=_organisation_minute(form, "access_end"),
        audio=form.get("audio", "redacted"),
        metadata_fields=tuple(form.getlist("metadata_fields")),
    )


def _window(start: datetime, end: datetime) -> dict[str, str]:
    """The window's fields as the form shows them: each moment on the organisation's clock, and which of its readings
    that is where the clock change makes it ambiguous."""
    shown = {}
    for name, moment in zip(WINDOW_FIELDS, (start, end), strict=True):
        local = moment.astimezone(UTC).astimezone(organisation_zone())
        shown[name], shown[f"{name}_fold"] = local.strftime(LOCAL_MINUTES), str(local.fold)
    return shown


def _date(form: MultiDict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise Invalid(name, gettext("use a date (2025-01-31)")) from None


def _organisation_minute(form: MultiDict[str, str], name: str) -> datetime:
    """A datetime-local value, read as the organisation's time (pages show the window in it), in UTC; a bare date
    means its midnight."""
    raw = form.get(name, "").strip()
    try:
        moment = datetime.fromisoformat(raw) if "T" in raw else datetime.combine(date.fromisoformat(raw), time())
        return organisation_moment(moment, field=name, fold=1 if form.get(f"{name}_fold") == "1" else 0)
    except (ValueError, OverflowError):  # not a moment, or one with no UTC equivalent
        raise Invalid(name, gettext("use a date and time (2025-01-31T09:00)")) from None
