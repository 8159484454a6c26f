"""The `callvault users|tokens` commands, against the test database (`audit verify`: tests/test_audit_anchors.py)."""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import accounts, tokens
from recordings_service.db import utcnow
from recordings_service.errors import Unauthenticated
from recordings_service.models import ApiToken, AuditEvent
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import PASSWORD, make_user, reloaded
from tests.factories.audit import newest_seq
from web import cli, cli_support


@pytest.fixture
def run(runtime: Runtime, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI with the test runtime (its commits stay inside the test's transaction)."""
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: runtime)
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(cli.main, list(args), input=stdin)

    return invoke


def actions(session: Session, *, after: int = 0) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.seq > after).order_by(AuditEvent.seq)))


def test_users_create_disable_and_reset_password(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    created = run("users", "create", "alice", "--role", "trainer", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    alice = accounts.user_by_username(session, "alice")
    version = alice.session_version
    # A person's account owes its second factor: the holder's one-time link is all standard output says.
    assert re.fullmatch(r"http://[^/]+/enrol/[\w-]{43}\n", created.stdout)
    assert reloaded(session, alice).enrol_token_hash == tokens.digest(created.stdout.strip().rsplit("/", 1)[1])

    reset = run("users", "reset-password", "alice")
    assert reset.exit_code == 0, reset.output
    assert "/enrol/" in reset.stdout and reset.stdout != created.stdout
    assert reloaded(session, alice).password_hash is None  # nobody, the operator included, knows a password
    assert alice.session_version == version + 1
    reset_mfa = run("users", "reset-mfa", "alice")
    assert reset_mfa.exit_code == 0, reset_mfa.output
    assert reloaded(session, alice).session_version == version + 2
    assert run("users", "enrolment-link", "alice").stdout.startswith("http://")
    version += 1

    disabled = run("users", "disable", "alice")
    assert disabled.exit_code == 0, disabled.output
    assert not reloaded(session, alice).active
    assert alice.session_version == version + 2
    assert run("users", "enable", "alice").exit_code == 0
    assert reloaded(session, alice).active
    assert {
        "user.created",
        "user.password_reset",
        "user.mfa_reset",
        "user.enrolment_link_issued",
        "user.disabled",
        "user.enabled",
    } <= set(actions(session))


def test_unknown_user_and_bad_password_are_one_line_errors(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    missing = run("users", "disable", "nobody")
    assert missing.exit_code == 1
    assert "user nobody not found" in missing.output
    weak = run("users", "create", "bob", "--role", "qa_supervisor", "--password-stdin", stdin="too short\n")
    assert weak.exit_code == 1
    assert "password: must be at least 12 characters" in weak.output
    # Found by exploratory testing: the password was read and dropped without a word.
    service = run("users", "create", "svc5", "--role", "service", "--password-stdin", stdin=PASSWORD + "\n")
    assert service.exit_code == 2 and "API tokens only" in service.output
    assert accounts.find_user(session, "svc5") is None
    # Found by exploratory testing: an unknown role exited 1 where an unknown --scope is a usage error (exit 2).
    unknown = run("users", "create", "bob", "--role", "supervisor")
    assert (
        unknown.exit_code == 2 and "Invalid value for '--role'" in unknown.output and "qa_supervisor" in unknown.output
    )
    assert accounts.find_user(session, "bob") is None
    # Found by exploratory testing: the last administrator could be disabled, leaving nobody to manage accounts.
    make_user(session, role=Role.ADMIN, username="only-admin")
    last = run("users", "disable", "only-admin")
    assert last.exit_code == 1 and "last active administrator" in last.output


def test_tokens_create_prints_only_the_token_and_revoke_ends_it(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    service = make_user(session, role=Role.SERVICE, username="pbx")
    created = run("tokens", "create", "pbx", "--scope", "ingest", "--days", "30", "--source", "pbx-main")
    assert created.exit_code == 0, created.output
    plain = created.stdout.strip()
    assert created.stdout == plain + "\n"
    assert plain.startswith(tokens.TOKEN_PREFIX)
    token = tokens.authenticate_token(session, plain)
    assert token is not None and token.user_id == service.id and token.scope == "ingest"
    assert token.source == "pbx-main"
    assert token.expires_at is not None
    # Bound as ingest reads a call's source, spaces dropped (bound to "pbx-main ", it was refused every call).
    padded = run("tokens", "create", "pbx", "--scope", "ingest", "--source", " pbx-main ")
    assert padded.exit_code == 0, padded.output
    assert tokens.authenticate_token(session, padded.stdout.strip()).source == "pbx-main"
    blank = run("tokens", "create", "pbx", "--scope", "ingest", "--source", "   ")
    assert blank.exit_code == 1 and "source: a source has 1 to" in blank.output
    for invisible in ("pb\nx", "\u202epbx"):  # a line break, a right-to-left override: found by exploratory testing
        refused = run("tokens", "create", "pbx", "--scope", "ingest", "--source", invisible)
        assert refused.exit_code == 1 and "source: remove the control character" in refused.output, invisible

    assert run("tokens", "create", "pbx", "--scope", "everything").exit_code == 2
    unbound = run("tokens", "create", "pbx", "--scope", "ingest")
    assert unbound.exit_code == 2 and "--source" in unbound.output
    misplaced = run("tokens", "create", "pbx", "--scope", "read", "--source", "pbx-main")
    assert misplaced.exit_code == 1 and "only an ingest token is bound to a source" in misplaced.output
    revoked_at = newest_seq(session)
    revoked = run("tokens", "revoke", token.id)
    assert revoked.exit_code == 0, revoked.output
    session.expire_all()
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(session, plain)
    assert {"token.created", "token.revoked"} <= set(actions(session))
    again = run("tokens", "revoke", token.id)  # idempotent, and says so rather than "revoked" a second time
    assert again.exit_code == 0 and f"{token.id} was already revoked on " in again.output, again.output
    assert actions(session, after=revoked_at).count("token.revoked") == 1
    assert run("tokens", "revoke", "01NOTATOKEN").exit_code == 1
    assert session.scalar(select(ApiToken.id).where(ApiToken.id == token.id)) is not None


def test_users_list_shows_role_state_institute_last_login_second_factor_and_lockout(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    make_user(session, username="dora", role=Role.TRAINER)
    erik = make_user(session, username="erik", role=Role.QA_SUPERVISOR, mfa_secret="JBSWY3DPEHPK3PXP")
    accounts.disable_user(session, actor=cli.CLI_ACTOR, user_id=erik.id)
    erik.last_login_at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    # Who is locked out, and who has no second factor yet, is what an admin asks next.
    fay = make_user(session, username="fay", role=Role.COMPLIANCE, mfa_secret="JBSWY3DPEHPK3PXP")
    fay.locked_until = datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)
    gus = make_user(session, username="gus", role=Role.TRAINER)
    gus.locked_until = datetime(2020, 1, 1, tzinfo=UTC)  # a lockout long over
    make_user(session, username="pbx", role=Role.SERVICE)
    session.commit()

    listed = run("users", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t") == ["username", "role", "active", "institute", "last_login", "mfa", "locked_until"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows["dora"] == ["dora", "trainer", "yes", "-", "-", "no", "-"]
    assert rows["erik"] == ["erik", "qa_supervisor", "no", "-", "2026-03-04T05:06:07Z", "yes", "-"]
    assert rows["fay"][-2:] == ["yes", "2099-01-02T03:04:05Z"]
    assert rows["gus"][-1] == "-"
    assert rows["pbx"][-2:] == ["-", "-"]


def test_tokens_list_shows_each_token_but_never_its_secret(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    service = make_user(session, role=Role.SERVICE, username="pbx")
    other = make_user(session, role=Role.COMPLIANCE, username="cora")
    live, live_plain = tokens.create_token(session, actor=cli.CLI_ACTOR, user=service, scope="ingest")
    gone, gone_plain = tokens.create_token(
        session, actor=cli.CLI_ACTOR, user=other, scope="read", lifetime=timedelta(days=30)
    )
    tokens.revoke_token(session, actor=cli.CLI_ACTOR, token_id=gone.id)
    session.commit()

    listed = run("tokens", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "user", "scope", "created", "expires", "last_used", "revoked"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows[live.id][1:3] == ["pbx", "ingest"] and rows[live.id][5:] == ["-", "-"]
    assert rows[live.id][4] != "-"  # every token expires
    assert rows[gone.id][1:3] == ["cora", "read"] and "-" not in (rows[gone.id][4], rows[gone.id][6])
    for secret in (live_plain, gone_plain, live.token_hash, gone.token_hash):
        assert secret not in listed.output

    mine = run("tokens", "list", "--user", "pbx")
    assert [line.split("\t")[0] for line in mine.stdout.splitlines()[1:]] == [live.id]
    assert run("tokens", "list", "--user", "nobody").exit_code == 1


def test_users_enable_says_what_it_did(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Found by review: `users enable` printed "enabled" for an account that was active all along."""
    erik = make_user(session, role=Role.TRAINER, username="erik")
    start = newest_seq(session)
    assert run("users", "enable", "erik").stdout == "erik is already active and was not locked: nothing changed\n"
    erik.locked_until = utcnow() + timedelta(minutes=10)
    session.flush()
    assert run("users", "enable", "erik").stdout == "lockout of erik lifted\n"
    erik.active = False
    session.flush()
    assert run("users", "enable", "erik").stdout == "enabled erik\n"
    users_changed = [each for each in actions(session, after=start) if each.startswith("user.")]
    assert users_changed == ["user.unlocked", "user.enabled"]


def test_users_disable_says_when_nothing_changed(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Found by exploring the CLI: `users disable` printed "disabled" for an account disabled long before."""
    make_user(session, role=Role.TRAINER, username="erik")
    start = newest_seq(session)
    assert run("users", "disable", "erik").stdout == "disabled erik\n"
    assert run("users", "disable", "erik").stdout == "erik is already disabled: nothing changed\n"
    assert [each for each in actions(session, after=start) if each.startswith("user.")] == ["user.disabled"]


def test_a_password_piped_with_a_windows_line_ending_is_the_password_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--password-stdin` kept the "\\r" of a CRLF line (PowerShell, a file saved on Windows): the stored password
    could never be typed at sign-in. (Read from a stream as a process's standard input is: no newline translation,
    which the CLI runner's input has.)"""
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\r\n"))

    assert cli_support.read_password() == PASSWORD


def test_an_empty_or_unknown_account_name_is_refused_naming_where_it_was_given(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Taken as not given, `tokens list --user ""` listed every account's tokens and `users set-lead bob ""` took bob's
    lead away; an unknown name said "user nobody not found" without saying which option named it."""
    make_user(session, role=Role.QA_SUPERVISOR, username="lead-1")
    bob = make_user(session, role=Role.QA_SUPERVISOR, username="bob")
    assert run("users", "set-lead", "bob", "lead-1").exit_code == 0

    for args, hint in [
        (("tokens", "list", "--user", ""), "--user: give a username"),
        (("tokens", "list", "--user", "nobody"), "--user: user nobody not found"),
        (("users", "set-lead", "bob", ""), "LEAD: give a username"),
        (("users", "set-lead", "bob", "nobody"), "LEAD: user nobody not found"),
        (("users", "create", "carol", "--role", "qa_supervisor", "--lead", "nobody"), "--lead: user nobody not found"),
        (("users", "create", "carol", "--role", "qa_supervisor", "--lead", " "), "--lead: give a username"),
    ]:
        refused = run(*args)
        assert refused.exit_code == 1 and f"Error: {hint}\n" == refused.output, (args, refused.output)
    assert reloaded(session, bob).lead_id == accounts.user_by_username(session, "lead-1").id
    assert accounts.find_user(session, "carol") is None


def test_a_leaked_token_is_revoked_by_its_value_which_is_never_printed(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Found by exploratory testing: `tokens revoke cvt_…` answered "token cvt_… not found", the secret on stderr
    (a cron mail, a log), and nothing finds a token's id from its value: a token found leaked could not be revoked."""
    make_user(session, role=Role.SERVICE, username="pbx2")
    plain = run("tokens", "create", "pbx2", "--scope", "ingest", "--source", "pbx-main").stdout.strip()
    token = tokens.authenticate_token(session, plain)

    revoked = run("tokens", "revoke", plain)

    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout == f"revoked {token.id}\n" and plain not in revoked.output
    session.expire_all()
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(session, plain)
    unknown = tokens.TOKEN_PREFIX + "never-issued-" + "x" * 30
    refused = run("tokens", "revoke", unknown)
    assert refused.exit_code == 1 and "no token has that value" in refused.output
    assert unknown not in refused.output
