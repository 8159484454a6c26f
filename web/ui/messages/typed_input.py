"""Refusals any page may give: input the model could not read, and a list's link to a further page."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from web.ui.message_values import Message, naming

PAGE_LINK_BROKEN = _l(
    "This link to a further page of the list is not valid (mistyped or out of date): start again from the first page."
)

FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    # Edited, or kept from an older version of the list (the audit trail's `before`).
    ("cursor", "invalid_cursor"): PAGE_LINK_BROKEN,
    ("before", "invalid_cursor"): PAGE_LINK_BROKEN,
    ("offset", "invalid_cursor"): PAGE_LINK_BROKEN,
}
CODE_MESSAGES: dict[str, Message] = {
    "int_parsing": _l("enter a whole number"),
    "invalid_character": _l("remove the NUL character (U+0000): text cannot hold it"),
    # Free text anywhere (recordings_service.written_text): text in lines, and a name or a label other than a title.
    "control_in_text": _l(
        "line breaks and tabs are fine here, but remove the control character (such as an escape) or the mark turning"
        " the text's direction"
    ),
    "invisible_in_line": _l(
        "this is one line of visible text: remove the invisible character in it (a space of no width, a mark"
        " turning the text's direction, or a control character such as an escape, a tab or a line break)"
    ),
    # Sent by a script or an odd client, never by the page itself: the page names the field it cannot show.
    "not_utf8": naming(
        lambda values: gettext(
            "%(name)s is not UTF-8 text: send it again from the page (a browser sends UTF-8)", name=values["name"]
        )
    ),
    "int_parsing_size": _l("enter a smaller number"),
    "float_parsing": _l("enter a number"),
    "finite_number": _l("enter a number"),
    "invalid_date": _l("use a date such as 2025-01-31"),
    "invalid_choice": _l("choose one of the options offered"),
}
