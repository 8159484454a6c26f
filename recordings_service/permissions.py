"""The one permission table: which role may do what. Everything not granted here is denied."""

from __future__ import annotations

from enum import StrEnum

from recordings_service.models.account import Role


class Permission(StrEnum):
    """What an endpoint needs. `PUBLIC` endpoints need no login (health checks, the login page)."""

    PUBLIC = "public"
    AUTHENTICATED = "authenticated"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({Permission.AUTHENTICATED}),
    Role.COMPLIANCE: frozenset({Permission.AUTHENTICATED}),
    Role.QA_SUPERVISOR: frozenset({Permission.AUTHENTICATED}),
    Role.TRAINER: frozenset({Permission.AUTHENTICATED}),
    Role.RESEARCH_PARTNER: frozenset({Permission.AUTHENTICATED}),
    Role.SERVICE: frozenset(),
}


def role_has(role: str, permission: Permission) -> bool:
    if permission is Permission.PUBLIC:
        return True
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
