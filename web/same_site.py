"""Reads of audio and transcripts in a browser session must come from Callvault's own pages (`Sec-Fetch-Site`).

The session cookie goes along with any request the browser makes, also one another site's page makes it
send; an API token does not, so token requests are not checked. Browsers that send no `Sec-Fetch-Site`
(older ones) are let through: the header is absent, not forged.
"""

from __future__ import annotations

from flask import request

from recordings_service.errors import Forbidden, Refusal
from web.access import current_actor, current_principal

SAME_SITE = {"same-origin", "same-site", "none"}


def in_browser_session() -> bool:
    principal = current_principal()
    return principal is not None and principal.scope is None


def refuse_cross_site(*, object_type: str, object_id: str) -> None:
    """Refuse (audited) a browser session's read that another site asked for."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is None or site in SAME_SITE or not in_browser_session():
        return
    details = {"endpoint": request.endpoint or "", "method": request.method, "reason": "cross_site"}
    refusal = Refusal(current_actor(), "access.denied", object_type, object_id, details)
    raise Forbidden("this can only be opened from Callvault's own pages", refusal=refusal)
