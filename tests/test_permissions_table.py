"""The permission policy written out by hand, cell by cell, so that a wrong grant in `permissions.py` fails here.

The expectations are literal on purpose: computing them from `ROLE_PERMISSIONS` or `TOKEN_SCOPES` would
agree with any change to the table. Changing the policy means changing this file too, in the same review.
"""

from __future__ import annotations

import pytest

from recordings_service.models.account import Role
from recordings_service.permissions import TOKEN_SCOPES, Permission, allowed

# Columns: admin, compliance, qa_supervisor, trainer, research_partner, service, agent. "x" allowed, "." denied.
ROLE_COLUMNS = (
    Role.ADMIN,
    Role.COMPLIANCE,
    Role.QA_SUPERVISOR,
    Role.TRAINER,
    Role.RESEARCH_PARTNER,
    Role.SERVICE,
    Role.AGENT,
)
ROLE_TABLE = """
                            adm cmp qa  trn prt svc agt
public                      x   x   x   x   x   x   x
authenticated               x   x   x   x   x   .   x
status.view                 x   x   x   x   .   .   .
recording.ingest            .   .   .   .   .   x   .
recording.list              .   x   x   x   .   .   .
recording.play              .   x   x   .   .   .   x
recording.play_redacted     .   x   x   x   .   .   x
customer.read               .   x   x   .   .   .   .
agent.read                  .   x   x   .   .   .   x
recording.download          .   x   x   .   .   .   .
transcript.read             .   x   x   .   .   .   x
transcript.read_redacted    .   x   x   x   .   .   x
transcript.verify           .   x   x   .   .   .   .
transcription.requeue       x   x   x   .   .   .   .
evidence.export             .   x   x   .   .   .   .
annotation.write            .   x   x   .   .   .   .
evaluation.write            .   .   x   .   .   .   .
evaluation.read             .   x   x   .   .   .   .
form.manage                 x   .   x   .   .   .   .
training.manage             .   .   .   x   .   .   .
training.nominate           .   .   x   .   .   .   .
training.nominations_read   .   .   x   x   .   .   .
users.manage                x   .   .   .   .   .   .
settings.manage             x   .   .   .   .   .   .
audit.read                  .   x   .   .   .   .   .
retention.manage            .   x   .   .   .   .   .
subject_requests.manage     .   x   .   .   .   .   .
research.manage             .   x   .   .   .   .   .
partner.portal              .   .   .   .   x   .   .
feedback.respond            .   .   .   .   .   .   x
"""

# What a token of each scope may do at most (a token never exceeds its owner's role either).
SCOPE_COLUMNS = ("ingest", "read", "partner", "compliance", "audit", "research", "training", "evaluation")
SCOPE_TABLE = """
                            ing rd  prt cmp aud res trn evl
authenticated               .   .   .   .   .   .   .   .
status.view                 .   .   .   .   .   .   .   .
recording.ingest            x   .   .   .   .   .   .   .
recording.list              .   x   .   .   .   .   .   .
recording.play              .   x   .   .   .   .   .   .
recording.play_redacted     .   x   .   .   .   .   x   .
customer.read               .   x   .   .   .   .   .   .
agent.read                  .   x   .   .   .   .   .   x
recording.download          .   x   .   .   .   .   .   .
transcript.read             .   x   .   .   .   .   .   .
transcript.read_redacted    .   x   .   .   .   .   x   .
transcript.verify           .   .   .   .   .   .   .   .
transcription.requeue       .   .   .   .   .   .   .   .
evidence.export             .   .   .   .   .   .   .   .
annotation.write            .   .   .   .   .   .   .   x
evaluation.write            .   .   .   .   .   .   .   x
evaluation.read             .   .   .   .   .   .   .   x
form.manage                 .   .   .   .   .   .   .   .
training.manage             .   .   .   .   .   .   x   .
training.nominate           .   .   .   .   .   .   x   .
training.nominations_read   .   .   .   .   .   .   x   .
users.manage                .   .   .   .   .   .   .   .
settings.manage             .   .   .   .   .   .   .   .
audit.read                  .   .   .   .   x   .   .   .
retention.manage            .   .   .   x   .   .   .   .
subject_requests.manage     .   .   .   x   .   .   .   .
research.manage             .   .   .   .   .   x   .   .
partner.portal              .   .   x   .   .   .   .   .
feedback.respond            .   .   .   .   .   .   .   x
"""


def cells(table: str, columns: tuple[str, ...]) -> dict[tuple[str, Permission], bool]:
    """The table as {(column, permission): allowed}; a malformed row is a mistake in this file."""
    parsed = {}
    for row in table.strip("\n").splitlines()[1:]:
        name, *marks = row.split()
        assert len(marks) == len(columns) and set(marks) <= {"x", "."}, f"malformed row {row!r}"
        permission = Permission(name)
        assert all((column, permission) not in parsed for column in columns), f"{name} written twice"
        parsed.update({(column, permission): mark == "x" for column, mark in zip(columns, marks, strict=True)})
    return parsed


ROLE_EXPECTED = cells(ROLE_TABLE, ROLE_COLUMNS)
SCOPE_EXPECTED = cells(SCOPE_TABLE, SCOPE_COLUMNS)


def test_the_tables_cover_every_role_permission_and_scope() -> None:
    assert {permission for _, permission in ROLE_EXPECTED} == set(Permission)
    assert {permission for _, permission in SCOPE_EXPECTED} == set(Permission) - {Permission.PUBLIC}
    assert set(ROLE_COLUMNS) == set(Role)
    assert set(SCOPE_COLUMNS) == set(TOKEN_SCOPES)


@pytest.mark.parametrize("role", ROLE_COLUMNS)
def test_each_role_holds_exactly_the_permissions_written_here(role: Role) -> None:
    actual = {permission: allowed(role=role, permission=permission) for permission in Permission}
    expected = {permission: ROLE_EXPECTED[role, permission] for permission in Permission}
    assert actual == expected


@pytest.mark.parametrize("scope", SCOPE_COLUMNS)
def test_each_token_scope_allows_exactly_the_permissions_written_here(scope: str) -> None:
    assert {permission for permission in TOKEN_SCOPES[scope]} == {
        permission
        for permission in Permission
        if permission is not Permission.PUBLIC and SCOPE_EXPECTED[scope, permission]
    }


@pytest.mark.parametrize("scope", SCOPE_COLUMNS)
@pytest.mark.parametrize("role", ROLE_COLUMNS)
def test_a_token_allows_what_both_its_owners_role_and_its_scope_allow(role: Role, scope: str) -> None:
    actual = {permission: allowed(role=role, permission=permission, scope=scope) for permission in Permission}
    expected = {
        permission: permission is Permission.PUBLIC
        or (ROLE_EXPECTED[role, permission] and SCOPE_EXPECTED[scope, permission])
        for permission in Permission
    }
    assert actual == expected


@pytest.mark.parametrize("role", ROLE_COLUMNS)
def test_an_unknown_scope_allows_nothing_but_public(role: Role) -> None:
    assert {permission for permission in Permission if allowed(role=role, permission=permission, scope="nope")} == {
        Permission.PUBLIC
    }


def test_an_unknown_role_holds_nothing_but_public() -> None:
    assert {permission for permission in Permission if allowed(role="intern", permission=permission)} == {
        Permission.PUBLIC
    }
