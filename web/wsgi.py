"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

from recordings_service.config import Settings
from recordings_service.logs import configure_logging
from web import create_app

settings = Settings.from_env()
configure_logging(settings)
app = create_app(settings)
