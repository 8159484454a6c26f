"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

from recordings_service.config import Settings
from recordings_service.logs import configure_logging
from recordings_service.runtime import Runtime
from web import create_app

settings = Settings.from_env()
configure_logging(settings)
runtime = Runtime.from_settings(settings)
# Raising here stops gunicorn ("Worker failed to boot") rather than serving with a key that breaks the trail.
runtime.check_keys()
app = create_app(settings, runtime=runtime)
