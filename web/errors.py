"""Domain errors and HTTP errors as HTTP responses: JSON for the API, a page for the UI.

A domain error that carries a refusal has its audit event written here, whatever the handler did.
A dependency that cannot serve now (the object store unreachable, a database connection lost) is a 503 with
`Retry-After`, never a 500: the client sends the request again later, and ingest is idempotent.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import ClientDisconnected, HTTPException

from recordings_service.audit import record_refusal
from recordings_service.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    Refusal,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from recordings_service.logs import describe_exception
from web.database import abandon_request_work, runtime
from web.links import back_link, wants_json
from web.ui.error_messages import listed_message

STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (TooLarge, 413),
    (Invalid, 422),
    (Conflict, 409),
    (Unavailable, 503),
]
CSRF_REFUSED = _l("This form is out of date or did not come from Callvault: open the page again and send it anew.")
# Seconds a client is asked to wait before retrying a 503.
RETRY_AFTER_S = 5
FULL_DISK = (errno.ENOSPC, errno.EDQUOT)  # no space left, or the account's quota spent


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    *,
    errors: Sequence[FieldError] = (),
    page_message: str | None = None,
) -> Response:
    """The JSON error, or the error page. A page says `page_message` (the error in the reader's language) if given,
    else the status's own explanation, else `message`."""
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message}
        if field is not None:
            body["field"] = field
        if errors:
            body["errors"] = [{"field": each.field, "error": each.code, "message": each.message} for each in errors]
        response = jsonify(body)
    else:
        page = render_template("error.html", status=status, message=message, explained=page_message, back=back_link())
        response = Response(page, mimetype="text/html")
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
    if status == 401 and wants_json():
        response.headers["WWW-Authenticate"] = 'Bearer realm="callvault"'
    return response


def keep_refusal(refusal: Refusal) -> None:
    """Write a refusal's audit event in its own transaction, once the failed request's work is rolled back.

    Rolling back first also releases the audit chain's head row, should the request have locked it.
    """
    abandon_request_work()
    with runtime().sessions() as session:
        record_refusal(session, refusal)
        session.commit()


def abandon_refused(exc: DomainError) -> None:
    """Roll a refused request's work back, writing the refusal's audit event where it carries one: for a page that
    answers the refusal itself (the form again, a flashed message), as the error handler does for the rest."""
    if exc.refusal is not None:
        keep_refusal(exc.refusal)
    else:
        abandon_request_work()


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        if exc.refusal is not None:
            keep_refusal(exc.refusal)
        status = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 400)
        # A page reads the error in its reader's language; the API's body stays the service's own words.
        shown = None if wants_json() else listed_message(exc)
        if isinstance(exc, Invalid):
            return error_response(status, exc.code, exc.message, exc.field, errors=exc.errors, page_message=shown)
        return error_response(status, exc.code, exc.message, exc.field, page_message=shown)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if isinstance(exc, ClientDisconnected):
            # The body stopped before its announced end: the client went away, or stalled past
            # CALLVAULT_BODY_STALL_S. A 400 "could not understand" made a telephony client drop a call it should
            # send again, and nothing was logged.
            app.logger.warning("request body incomplete", extra={"endpoint": request.endpoint})
            abandon_request_work()
            return error_response(408, "request_timeout", "The request body stopped before its end; send it again.")
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        # A form's CSRF token missing or stale (a page left open past its session, say): said so in the reader's
        # language, with what to do, where the description is Flask-WTF's English.
        page_message = str(CSRF_REFUSED) if isinstance(exc, CSRFError) and not wants_json() else None
        response = error_response(status, code, exc.description or exc.name or "error", page_message=page_message)
        for name, value in exc.get_headers():  # a 405's Allow, say; the body is ours, and so is its type
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError) -> Response:
        # A connection that could not be made has no statement: the server down, restarting or refusing connections
        # (its connection limit reached, the database closed to them). That was a 500, which a telephony client
        # takes as the call refused for good.
        refused = isinstance(exc, OperationalError) and exc.statement is None
        if not (exc.connection_invalidated or refused):
            return unexpected(exc)
        # The pool has dropped the dead connection (and pings before each checkout): the next request reconnects.
        # A connection refused carries the server's words and no statement, so no values of a request.
        reason = describe_exception(exc.orig if refused else exc)
        message = "database unavailable" if refused else "database connection lost"
        app.logger.warning(message, extra={"endpoint": request.endpoint, "reason": reason})
        return _database_unavailable()

    @app.errorhandler(PoolTimeout)
    def database_busy(exc: PoolTimeout) -> Response:
        # Every connection of the pool in use for longer than its timeout: as busy as unreachable, for a client.
        app.logger.warning("database connections exhausted", extra={"endpoint": request.endpoint})
        return _database_unavailable()

    def _database_unavailable() -> Response:
        abandon_request_work()
        # The page's menu reads the signed-in account from the database, which cannot be reached: it is drawn for
        # nobody (the session cookie is left as it is), where reading it raised again inside this handler.
        g._login_user = app.login_manager.anonymous_user()  # type: ignore[attr-defined]
        return error_response(503, Unavailable.code, "The database cannot be reached now; try again shortly.")

    @app.errorhandler(OSError)
    def disk_error(exc: OSError) -> Response:
        if exc.errno not in FULL_DISK:
            return unexpected(exc)
        # A full disk (the spool, a scratch folder) passes like an outage: a client told 500 treats the call as
        # refused for good; told 503, it sends it again, and nothing of the request was kept.
        app.logger.warning("disk full", extra={"endpoint": request.endpoint})
        abandon_request_work()
        return error_response(503, Unavailable.code, "The server's disk is full; try again later.")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error", extra={"endpoint": request.endpoint})
        # Rolled back first: after a failed flush the session refuses every read until then, and the error page
        # reads the signed-in account for its menu (a PendingRollbackError there left gunicorn's bare 500 page).
        abandon_request_work()
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")
