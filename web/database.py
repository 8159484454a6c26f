"""One SQLAlchemy session per request, opened on first use; views commit once, teardown closes it."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from recordings_service.runtime import Runtime


def runtime() -> Runtime:
    value: Runtime = current_app.extensions["callvault"]
    return value


def db() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().sessions()
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
