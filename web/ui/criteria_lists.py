"""The comma-separated criteria the research batch and training sample forms share (queues, languages): read as
lists, and an item's refusal said for the form's one field of the list, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from recordings_service.errors import Invalid
from recordings_service.models.recording import MAX_QUEUE
from recordings_service.recordings import LANGUAGES

# What each item of a comma-separated criterion must be (the core's criteria models refuse any other).
ITEM_RULES = {
    "queues": _l("a queue name has at most %(num)d characters", num=MAX_QUEUE),
    "languages": _l("use the language codes calls are stored with: %(codes)s", codes=", ".join(LANGUAGES)),
}


def listed(raw: str) -> list[str] | None:
    """A comma-separated list (`sales, billing`); empty means no restriction."""
    words = [word.strip() for word in raw.split(",") if word.strip()]
    return words or None


def list_refusal(refused: Invalid) -> Invalid:
    """An item's refusal, named by its place (`queues.1`), as one for the form's field of the whole list saying what
    every item must be; any other refusal as it is."""
    list_name = refused.field.split(".")[0]
    if list_name != refused.field and list_name in ITEM_RULES:
        return Invalid(list_name, str(ITEM_RULES[list_name]))
    return refused
