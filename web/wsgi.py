"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

import sys

from gunicorn.arbiter import Arbiter
from sqlalchemy.exc import ArgumentError

from recordings_service.config import Settings
from recordings_service.logs import configure_logging
from recordings_service.runtime import Runtime
from web import create_app

WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR

try:
    settings = Settings.from_env()
    configure_logging(settings)
    runtime = Runtime.from_settings(settings)
    # Refused here, gunicorn stops ("Worker failed to boot") rather than serving with a key that breaks the trail.
    runtime.check_keys()
except (ValueError, ArgumentError) as exc:  # a malformed setting (SettingsError), key or database URL
    # One line naming the setting, as the CLI says it, where a service manager's journal got a traceback per worker;
    # exit status 3 is gunicorn's "worker failed to boot", on which it stops rather than start the worker again.
    print(f"web process not started: {exc}", file=sys.stderr)
    raise SystemExit(WORKER_BOOT_ERROR) from None
app = create_app(settings, runtime=runtime)
