"""Addresses of pages that both the UI and the API's answers link to, and the check on where a redirect may go."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import request, url_for

# Enough rounds to undo double and triple encoding ("%252F"); what still decodes after that is refused.
_DECODE_ROUNDS = 3


def call_url(recording_id: str, t: float | None = None) -> str:
    """The call page, opened `t` seconds into the call when given."""
    return url_for("call_page.call", recording_id=recording_id, t=None if t is None else f"{round(t, 2):g}")


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default`: an open redirect would lend a phishing page our name."""
    if not target:
        return default
    # Judged also as a browser or a decoding proxy may read it: browsers drop tabs and newlines and read "\\"
    # as "/", so `/%09/evil.example` arrives as `//evil.example`.
    decoded = target
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(decoded)
    if unquote(decoded) != decoded or not _plain_path(target) or not _plain_path(decoded):
        return default
    return target


def _plain_path(candidate: str) -> bool:
    """A path from this site's root: one leading "/", no scheme or host, no control characters or backslashes."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate) or "\\" in candidate:
        return False
    parts = urlsplit(candidate)
    return candidate.startswith("/") and not candidate.startswith("//") and not parts.scheme and not parts.netloc


def wants_json() -> bool:
    """The request is the API's, or a page's script asking for JSON: it is answered in JSON, errors too."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def back_link() -> str:
    """Where a way back leads (an error page's; signing in after a form was sent): the referring page when it is on
    this site, else the person's home."""
    home = url_for("ui.index")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path == request.path:
        return home
    return safe_next(f"{referrer.path}?{referrer.query}" if referrer.query else referrer.path, home)
