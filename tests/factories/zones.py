"""An app whose organisation keeps another time zone than the tests' default (`CALLVAULT_TIMEZONE`)."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask

from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from web import create_app


def app_in_zone(settings: Settings, runtime: Runtime, zone: str) -> Flask:
    """A test app for `settings` with the organisation in `zone` (an IANA name), on the test's runtime."""
    zoned = replace(settings, timezone=zone)
    app = create_app(zoned, runtime=replace(runtime, settings=zoned))
    app.config.update(TESTING=True)
    return app
