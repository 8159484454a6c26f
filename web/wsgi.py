"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

from gunicorn.arbiter import Arbiter

from recordings_service.runtime import process_runtime
from web import create_app

# A key or setting refused stops gunicorn: its "worker failed to boot" status, where any other started worker after
# worker (and serving with a key that breaks the trail is worse).
runtime = process_runtime("web", failed_status=Arbiter.WORKER_BOOT_ERROR)
app = create_app(runtime.settings, runtime=runtime)
