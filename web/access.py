"""Authorization for every endpoint: each declares the permission it needs, and anything else is refused.

The principal is either a signed-in person (Flask-Login session) or an API token (`Authorization:
Bearer …`); a token acts with its user's role narrowed to the token's scope. Every denial is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from recordings_service import tokens
from recordings_service.audit import Actor
from recordings_service.errors import ID_SHAPE, Forbidden, Refusal, Unauthenticated
from recordings_service.models import User
from recordings_service.permissions import TOKEN_SCOPES, Permission, allowed
from web.database import abandon_request_work, db
from web.links import back_link, wants_json

View = TypeVar("View", bound=Callable[..., Any])
ATTRIBUTE = "required_permission"
# Flask's own endpoint for files under web/static: no personal data there.
BUILTIN_PUBLIC_ENDPOINTS = {"static"}


@dataclass(frozen=True)
class Principal:
    user: User
    scope: str | None  # None for a browser session
    source: str | None = None  # the recording source an ingest token ingests for
    token_id: str | None = None  # the API token it acts by (None for a browser session)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.user.id, name=self.user.username, role=self.user.role, ip=request.remote_addr)

    def can(self, permission: Permission) -> bool:
        return allowed(role=self.user.role, permission=permission, scope=self.scope)


def requires(permission: Permission) -> Callable[[View], View]:
    def declare(view: View) -> View:
        setattr(view, ATTRIBUTE, permission)
        return view

    return declare


public = requires(Permission.PUBLIC)


def declared_permission(app: Flask, endpoint: str) -> Permission | None:
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return Permission.PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, ATTRIBUTE, None)


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints that declare no permission (each is refused to everyone); a test keeps this list empty."""
    return sorted(
        {rule.endpoint for rule in app.url_map.iter_rules() if declared_permission(app, rule.endpoint) is None}
    )


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = _resolve_principal()
    principal: Principal | None = g.principal
    return principal


def current_can(permission: Permission) -> bool:
    """Does the acting principal hold `permission` (beyond the one its endpoint declared)?"""
    principal = current_principal()
    return principal is not None and principal.can(permission)


def current_actor() -> Actor:
    """The acting principal as the audit trail records it (anonymous when nobody is signed in)."""
    principal = current_principal()
    if principal is None:
        return Actor.anonymous(request.remote_addr)
    return principal.actor


def bearer_token() -> str | None:
    """The request's bearer token, if it sends one (the scheme's name is case-insensitive: RFC 9110)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def _resolve_principal() -> Principal | None:
    presented = bearer_token()
    if presented is not None:
        try:
            token = tokens.authenticate_token(db(), presented, ip=request.remote_addr)
        except Unauthenticated as refused:
            g.token_refused = refused  # raised by `enforce` where the endpoint needs someone; public ones answer
            return None
        if db().dirty:
            db().commit()  # keep last_used_at even when the request itself fails later
        return Principal(user=token.user, scope=token.scope, source=token.source, token_id=token.id)
    if current_user.is_authenticated:
        return Principal(user=current_user, scope=None)  # type: ignore[arg-type]
    return None


def denial(*, object_type: str | None = None, object_id: str | None = None) -> Refusal:
    """The refusal of the current request for lack of permission.

    Refused before its handler ran, a request still names what it was after: the ids in its path (a trainer
    asking for a call's original audio is recorded against that call, not against nothing). Only ids: a customer's
    or an agent's reference, a queue's name, or whatever text a caller put in a path, went into the trail as typed,
    where it outlived the customer's erasure (the trail is never edited); such parameters are named, not kept."""
    asked = {name: str(value) for name, value in (request.view_args or {}).items()}
    ids = {name: value for name, value in asked.items() if name.endswith("_id") and ID_SHAPE.fullmatch(value)}
    details = {**ids, "endpoint": request.endpoint or "", "method": request.method}
    if withheld := sorted(set(asked) - set(ids)):
        details["withheld"] = ",".join(withheld)
    if object_type is None and "recording_id" in ids:
        object_type, object_id = "recording", ids["recording_id"]
    return Refusal(current_actor(), "access.denied", object_type, object_id, details)


def enforce() -> None:
    """Before each request: deny by default, then check the principal against the declared permission."""
    if request.endpoint is None:
        return  # no route matched: Flask answers 404 / 405 itself
    permission = declared_permission(current_app, request.endpoint)
    if permission is None:
        current_app.logger.error("endpoint without a permission declaration", extra={"endpoint": request.endpoint})
        abort(403)
    if permission is Permission.PUBLIC:
        _keep_public_token_refusal()
        return
    principal = current_principal()
    if principal is None:
        if "token_refused" in g:
            raise g.token_refused
        on_unauthenticated()
        abort(401)
    if not principal.can(permission):
        raise Forbidden(_refusal_message(principal, permission), refusal=denial())


def _keep_public_token_refusal() -> None:
    """A public endpoint answers as it would without a token, but a refused one sent to it (a revoked or expired
    token still in use: a leaked or forgotten credential) is audited as anywhere else. A request without a bearer
    token costs no lookup."""
    if bearer_token() is None:
        return
    try:
        current_principal()
        if "token_refused" in g:
            from web.errors import keep_refusal  # here: web.errors imports the pages' messages, which import this

            keep_refusal(g.token_refused.refusal)
    except (DBAPIError, PoolTimeout):
        # Best effort: /healthz and /readyz answer for a database that is down or not migrated yet, token or not
        # (a review: a monitor sending its token got a 500 from them during an outage).
        abandon_request_work()
        g.principal = None


def _refusal_message(principal: Principal, permission: Permission) -> str:
    """Why: the role, or, where the role may do it, the token's scope (naming the scopes that would do)."""
    if principal.scope is None or not allowed(role=principal.user.role, permission=permission):
        return "your role does not permit this"
    scopes = sorted(scope for scope, granted in TOKEN_SCOPES.items() if permission in granted)
    if not scopes:
        return f"this token's scope ({principal.scope}) does not permit this, nor does any token: sign in to do it"
    return f"this token's scope ({principal.scope}) does not permit this; a token of scope {' or '.join(scopes)} does"


def on_unauthenticated() -> None:
    """Browsers are sent to the login page (once the UI registers one); API clients, and a page's own script asking
    for JSON (the evaluation panel's autosave), get 401: a redirect to a sign-in page was no answer it could read."""
    login_endpoint = current_app.extensions.get("callvault_login_endpoint")
    if login_endpoint and not wants_json():
        abort(redirect(url_for(login_endpoint, next=_return_to())))


# What a query string keeps as it is when escaped again: its separators and its escapes.
QUERY_SAFE = "/?:@&=+$,;%!*'()~"


def _return_to() -> str:
    """Where signing in leads back: the page asked for; for a form sent after the session ended, the page it was sent
    from, which shows what was saved (a POST's own address, asked for again after signing in, was 405)."""
    if request.method not in ("GET", "HEAD"):
        return back_link()
    # Werkzeug's `full_path` decodes the query as UTF-8, strictly: a raw byte that is not (which a client other than
    # a browser may send) was a 500 for anyone not signed in. Escaped, it is the address asked for, refused once
    # signed in.
    return f"{request.path}?{quote(request.query_string, safe=QUERY_SAFE)}"
