"""Addresses of pages that both the UI and the API's answers link to."""

from __future__ import annotations

from flask import url_for


def call_url(recording_id: str, t: float | None = None) -> str:
    """The call page, opened `t` seconds into the call when given."""
    return url_for("call_page.call", recording_id=recording_id, t=None if t is None else f"{round(t, 2):g}")
