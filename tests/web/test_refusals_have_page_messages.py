"""Every refusal a service names with a `why` reads in the page's language: it is listed in web/ui/messages/.

Found by exploratory testing in Finnish: withdrawing a request another tab had withdrawn already showed "subject
request 01M950… is closed already" in English on a Finnish page; ending a batch's access that was not approved,
editing an older form version, and five other refusals the same. An unlisted `why` falls back to the service's
English message."""

from __future__ import annotations

import re
from pathlib import Path

from web.ui.error_messages import CODE_MESSAGES, FIELD_MESSAGES

CORE = Path(__file__).resolve().parents[2] / "recordings_service"
WHY = re.compile(r'why="([a-z_]+)"')


def test_every_named_refusal_has_a_page_message() -> None:
    listed = set(CODE_MESSAGES) | {code for _field, code in FIELD_MESSAGES}
    unlisted = sorted(
        f"{path.relative_to(CORE.parent)}: {why}"
        for path in CORE.rglob("*.py")
        for why in WHY.findall(path.read_text())
        if why not in listed
    )
    assert unlisted == []
