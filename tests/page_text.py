"""What a reader sees of a rendered page, for tests that check its wording."""

from __future__ import annotations

import re
from html import unescape


def visible_text(html: str) -> str:
    """The text between tags (option values and other attributes left out), entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", html))
