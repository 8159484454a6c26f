"""What an operation may answer from the guards every request passes, declared in the API document from the guards
themselves: 403 where the permission its view declares is refused to a role or a token's scope (`web.access`), 408
and 413 where it takes a body (`web.body_limit`, `web.errors`); and every error answer as the one error body."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from recordings_service.models.account import Role
from recordings_service.permissions import TOKEN_SCOPES, Permission, allowed
from web import access

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# What a request that sends a body may be answered before its handler acts on it.
BODY_ANSWERS = {
    "408": "the request body stopped before its announced end (the client went away, or sent nothing for "
    "`CALLVAULT_BODY_STALL_S`): `request_timeout`; nothing was done, send the request again",
    "413": "the request body is over the limit (`CALLVAULT_MAX_REQUEST_BYTES`; an upload's own, larger): `too_large`",
}
# Spectree's own descriptions, which say no more than the status does.
_BARE_403 = {"", "Forbidden"}


def with_guard_answers(spec: dict[str, Any], views: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    """`spec` with the answers of the guards declared on each operation (named by its endpoint, as `views` has it),
    and every error answer's body as `ErrorBody`: spectree declares its own validation error's body for a route
    without a query or body model, where no such body is ever sent (a 422 there is ours, a NUL in a parameter)."""
    document = copy.deepcopy(spec)
    for operations in document["paths"].values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            permission = getattr(views[operation["operationId"]], access.ATTRIBUTE, None)
            if permission is not None and refused_to_some(permission):
                forbidden = answers.setdefault("403", {})
                if forbidden.get("description", "") in _BARE_403:
                    forbidden["description"] = refusal_description(permission)
            if "requestBody" in operation:
                for status, description in BODY_ANSWERS.items():
                    answers.setdefault(status, {"description": description})
            for status, answer in answers.items():
                if status.startswith(("4", "5")):
                    answer["content"] = {"application/json": {"schema": ERROR_BODY}}
    return document


def refused_to_some(permission: Permission) -> bool:
    """Whether some role, or some token's scope on a role that holds it, is refused `permission`."""
    return any(
        not allowed(role=role, permission=permission, scope=scope) for role in Role for scope in (None, *TOKEN_SCOPES)
    )


def refusal_description(permission: Permission) -> str:
    """Who may: the roles holding `permission` and the token scopes granting it (from the one permission table)."""
    roles = ", ".join(role.value for role in Role if allowed(role=role, permission=permission)) or "none"
    scopes = ", ".join(scope for scope, granted in TOKEN_SCOPES.items() if permission in granted)
    return (
        f"refused: the role, or the API token's scope, does not permit the operation (`{permission.value}`: roles "
        f"{roles}; token scopes {scopes or 'none, sign in'}), or not something this request asks of it (a filter, "
        "a download, another's object); `message` says which"
    )
