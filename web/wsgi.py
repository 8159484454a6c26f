"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

from sqlalchemy.exc import ArgumentError

from recordings_service.config import Settings
from recordings_service.logs import configure_logging
from recordings_service.runtime import Runtime
from web import create_app

try:
    settings = Settings.from_env()
    configure_logging(settings)
    runtime = Runtime.from_settings(settings)
    # Refused here, gunicorn stops ("Worker failed to boot") rather than serving with a key that breaks the trail.
    runtime.check_keys()
except (ValueError, ArgumentError) as exc:  # a malformed setting (SettingsError), key or database URL
    # One line naming the setting, as the CLI says it, where a service manager's journal got a traceback per worker.
    raise SystemExit(f"web process not started: {exc}") from None
app = create_app(settings, runtime=runtime)
