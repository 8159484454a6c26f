"""Every endpoint declares the permission it needs; an endpoint without a declaration is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request

from recordings_service.permissions import Permission

View = TypeVar("View", bound=Callable[..., Any])
ATTRIBUTE = "required_permission"
# Flask's own endpoint for files under web/static: no personal data there.
BUILTIN_PUBLIC_ENDPOINTS = {"static"}


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


def enforce_declarations() -> None:
    """Before each request: refuse any endpoint that forgot to declare its permission (deny by default)."""
    if request.endpoint is None:
        return  # no route matched: Flask answers 404 / 405 itself
    if declared_permission(current_app, request.endpoint) is None:
        current_app.logger.error("endpoint without a permission declaration", extra={"endpoint": request.endpoint})
        abort(403)
