"""A token acts with role ∩ scope: a scope the account's role can never use is refused when the token is made."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.errors import Invalid
from recordings_service.models import ApiToken
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM, make_user
from web import cli, cli_support


@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        (Role.SERVICE, "read", "a service account can never use a read token"),
        (Role.ADMIN, "ingest", "an admin account can never use an ingest token"),
        (Role.TRAINER, "compliance", "a trainer account can never use a compliance token"),
        (Role.COMPLIANCE, "partner", "a compliance account can never use a partner token"),
    ],
)
def test_a_scope_the_role_can_never_use_is_refused(session: Session, role: Role, scope: str, message: str) -> None:
    user = make_user(session, role=role)
    with pytest.raises(Invalid) as refused:
        tokens.create_token(session, actor=SYSTEM, user=user, scope=scope)
    assert refused.value.field == "scope"
    assert refused.value.message == message
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_scope_sharing_part_of_the_role_is_allowed(session: Session) -> None:
    # A trainer holds some of the read scope (redacted material), so the token is useful, though narrowed.
    trainer = make_user(session, role=Role.TRAINER)
    token, _ = tokens.create_token(session, actor=SYSTEM, user=trainer, scope="read")
    assert token.scope == "read"


def test_cli_tokens_create_refuses_it_in_one_line_with_exit_1(
    runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    make_user(session, role=Role.SERVICE, username="pbx")
    result = CliRunner().invoke(cli.main, ["tokens", "create", "pbx", "--scope", "read"])
    assert result.exit_code == 1
    assert result.stdout == ""  # no token printed
    assert result.stderr == "Error: scope: a service account can never use a read token\n"
