"""One SQLAlchemy session per request, opened on first use; views commit once, teardown closes it.

A HEAD commits nothing: Flask answers it through the GET view, which records the read it makes (a transcript
viewed, a set opened, a search, a page of the audit trail), yet no body goes out, so nobody read anything (a link
checker, a browser's prefetch, a download manager's probe). Its session rolls back where the view commits, for
every page and every read of the API alike, so no view decides it for itself; a refusal is still recorded
(web/errors.py writes it in a session of its own), and the status and headers are the GET's.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from recordings_service.runtime import Runtime


def runtime() -> Runtime:
    value: Runtime = current_app.extensions["callvault"]
    return value


class UncommittedSession(Session):
    """A session whose `commit()` rolls back: what the request did is discarded, and the locks a commit would
    release (the audit chain's head row, SQLite's write lock) are released all the same."""

    def commit(self) -> None:
        self.rollback()


def commits_work() -> bool:
    """Whether this request's work is committed: not a HEAD (see the module's docstring)."""
    return not (has_request_context() and request.method == "HEAD")


def db() -> Session:
    if "db_session" not in g:
        sessions = runtime().sessions
        g.db_session = sessions() if commits_work() else UncommittedSession(**sessions.kw)
    session: Session = g.db_session
    return session


def abandon_request_work() -> None:
    """Roll back what the request did so far (it failed), releasing its row locks."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
