"""gunicorn's server hooks for Callvault's web process: `gunicorn --config python:web.gunicorn_hooks web.wsgi:app`
(`callvault run`, and the systemd unit in infra/)."""

from gunicorn.arbiter import Arbiter

from recordings_service.runtime import process_runtime


def on_starting(server: Arbiter) -> None:
    """Check the settings and keys once, in the master, before it listens or starts a worker: a refused one ends
    gunicorn with one line naming it (exit 1). Left to the workers, each said it, and two failing at once made
    gunicorn's arbiter raise its halt again while halting: a traceback, and exit 1 where 3 was meant."""
    # The master forks every worker: it hands down no connection of its own.
    process_runtime("web").engine.dispose()
