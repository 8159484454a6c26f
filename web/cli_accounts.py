"""`callvault users` and `callvault tokens`: accounts and API tokens."""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy.orm import Session

from recordings_service import accounts, lockout, mfa, tokens
from recordings_service.db import utcnow
from recordings_service.errors import Invalid, NotFound
from recordings_service.models.account import Role, User
from recordings_service.permissions import TOKEN_SCOPES
from recordings_service.runtime import Runtime
from web import cli_support
from web.cli_support import CLI_ACTOR, echo_table, hand_over, read_password, yes_no
from web.ui.auth import enrolment_url


@click.group()
def users() -> None:
    """Staff, partner and service accounts."""


@users.command("create")
@click.argument("username")
# A usage error (exit 2) naming the choices, as an unknown --scope is: it was exit 1, unlike every other bad option.
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--display-name", default="")
@click.option("--institute", "institute_id", default=None, help="The institute's id (research_partner only, required).")
@click.option("--agent-ref", default=None, help="The agent ref the agent's calls carry (agent only, required).")
@click.option("--lead", "lead", default=None, help="Username of the person's lead (gets their evaluations' disputes).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read a password from standard input (for your own account); otherwise the holder chooses it at the link.",
)
def users_create(
    *,
    username: str,
    role: str,
    display_name: str,
    institute_id: str | None,
    agent_ref: str | None,
    lead: str | None,
    password_stdin: bool,
) -> None:
    """Create an account; for a person, print the one-time enrolment link (24 h) for its holder."""
    if role == "research_partner" and not institute_id:
        raise click.UsageError("a research_partner account needs --institute INSTITUTE_ID")
    if institute_id and role != "research_partner":
        raise click.UsageError("--institute is only for research_partner accounts")
    if role == "agent" and not agent_ref:
        raise click.UsageError("an agent account needs --agent-ref REF")
    if agent_ref and role != "agent":
        raise click.UsageError("--agent-ref is only for agent accounts")
    if password_stdin and role == "service":
        raise click.UsageError("a service account signs in with API tokens only: --password-stdin has no use")
    password = read_password() if password_stdin else None
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        lead_id = _named_user_id(session, lead, given_as="--lead")
        user = accounts.create_user(
            session,
            actor=CLI_ACTOR,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            institute_id=institute_id,
            agent_ref=agent_ref,
            lead_id=lead_id,
        )
        link = None if user.role == "service" else _enrolment_link(runtime, session, user_id=user.id)
        if link is not None:
            hand_over(link)
        session.commit()
        click.echo(f"created {user.username} ({user.role})", err=link is not None)


def _named_user_id(session: Session, username: str | None, *, given_as: str) -> str | None:
    """The id of the account an option or argument names, None when it is not given; an empty or unknown name is
    refused naming where it was given. Taken as not given, `--user ""` listed every account's tokens and
    `set-lead bob ""` took bob's lead away; an unknown one said "user nobody not found" and not which name it was."""
    if username is None:
        return None
    if not username.strip():
        raise Invalid(given_as, "give a username", code="missing")
    try:
        return accounts.user_by_username(session, username).id
    except NotFound as exc:
        raise NotFound(exc.message, field=given_as) from None


@users.command("set-lead")
@click.argument("username")
@click.argument("lead", required=False)
def users_set_lead(username: str, lead: str | None) -> None:
    """Name USERNAME's lead (a QA supervisor), who also gets the disputes of USERNAME's evaluations; no LEAD: none."""
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        lead_id = _named_user_id(session, lead, given_as="LEAD")
        accounts.set_lead(session, actor=CLI_ACTOR, user_id=user.id, lead_id=lead_id)
        session.commit()
    click.echo(f"{username}: lead {lead or 'none'}")


@users.command("list")
def users_list() -> None:
    """List the accounts: username, role, active, institute, last login, whether a person has enrolled a second
    factor (`unreadable: reset-mfa` where it is sealed under a master key the keyset lacks), and until when a lockout
    lasts (tab-separated, with a header)."""
    # Without the check of the second factors' keys: after a master key is lost for good, the list names whom to reset.
    runtime = cli_support.load_runtime(second_factors=False)
    now = utcnow()
    with runtime.sessions() as session:
        rows = [
            (
                user.username,
                user.role,
                yes_no(user.active),
                user.institute_id,
                user.last_login_at,
                None if user.role == Role.SERVICE else _second_factor(runtime, user),
                user.locked_until if lockout.login_locked(user, now) else None,
            )
            for user in accounts.list_users(session)
        ]
    echo_table(("username", "role", "active", "institute", "last_login", "mfa", "locked_until"), rows)


def _second_factor(runtime: Runtime, user: User) -> str:
    if user.mfa_seed is not None and runtime.envelope.lacks_key_of(user.mfa_seed):
        return "unreadable: reset-mfa"
    return yes_no(user.mfa_enrolled)


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account; its login sessions end and its API tokens are revoked (enabling it revives none)."""
    # A way out too after a master key is lost: a disabled account's second factor is not checked.
    runtime = cli_support.load_runtime(second_factors=False)
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        was_active = user.active  # disabling a disabled account changes (and audits) nothing
        accounts.disable_user(session, actor=CLI_ACTOR, user_id=user.id)
        session.commit()
        click.echo(
            f"disabled {user.username}" if was_active else f"{user.username} is already disabled: nothing changed"
        )


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable a disabled account (and lift a lockout)."""
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        done = accounts.enable_user(session, runtime.envelope, actor=CLI_ACTOR, user_id=user.id)
        session.commit()
        click.echo(_ENABLE_OUTCOMES[done].format(username=user.username))


_ENABLE_OUTCOMES = {
    accounts.Enabling.ENABLED: "enabled {username}",
    accounts.Enabling.UNLOCKED: "lockout of {username} lifted",
    accounts.Enabling.UNCHANGED: "{username} is already active and was not locked: nothing changed",
}


@users.command("reset-password")
@click.argument("username")
def users_reset_password(username: str) -> None:
    """Make the password unusable and end the account's sessions; print the holder's link to set a new one."""
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        accounts.reset_password(session, actor=CLI_ACTOR, user_id=user.id)
        _link_after_reset(runtime, session, user, done=f"password of {user.username} reset", then="sets a new one")


@users.command("reset-mfa")
@click.argument("username")
def users_reset_mfa(username: str) -> None:
    """Remove the second factor and end the account's sessions; print the holder's link to enrol again."""
    runtime = cli_support.load_runtime(second_factors=False)  # the way out when a lost master key sealed it
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        mfa.reset_mfa(session, actor=CLI_ACTOR, user_id=user.id)
        _link_after_reset(runtime, session, user, done=f"second factor of {user.username} reset", then="enrols again")


def _link_after_reset(runtime: Runtime, session: Session, user: User, *, done: str, then: str) -> None:
    """Commit a reset and print the holder's link; a disabled account gets none (the link was refused, the reset with
    it: a second factor sealed under a lost master key could then be reset nowhere, and enabling the account is
    refused until it is), so it is to be enabled, then given one."""
    if not user.active:
        session.commit()
        click.echo(
            f"{done}; the account is disabled: enable it, then `callvault users enrolment-link {user.username}`"
            " prints its holder's link",
            err=True,
        )
        return
    link = _enrolment_link(runtime, session, user_id=user.id)
    session.commit()
    click.echo(f"{done}; its holder {then} at:", err=True)
    click.echo(link)


@users.command("enrolment-link")
@click.argument("username")
def users_enrolment_link(username: str) -> None:
    """Print a new one-time enrolment link (24 h) for the account's holder; an earlier link stops working."""
    # As `reset-mfa`: a link given at a reset after a master key was lost may expire before every account is reset.
    runtime = cli_support.load_runtime(second_factors=False)
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        link = _enrolment_link(runtime, session, user_id=user.id)
        hand_over(link)
        session.commit()


def _enrolment_link(runtime: Runtime, session: Session, *, user_id: str) -> str:
    token = mfa.issue_enrolment_link(session, runtime.envelope, actor=CLI_ACTOR, user_id=user_id)
    return enrolment_url(runtime.settings.public_url, token)


@click.group("tokens")
def tokens_group() -> None:
    """API tokens for machines (telephony ingest) and scripts."""


@tokens_group.command("create")
@click.argument("username")
@click.option("--scope", required=True, type=click.Choice(sorted(TOKEN_SCOPES)))
@click.option(
    "--days",
    # Bounded here too: a number of days past what timedelta holds was a traceback (OverflowError).
    type=click.IntRange(min=1, max=tokens.LONGEST_LIFETIME.days),
    default=None,
    help="Lifetime in days (default: 365 for ingest, 30 for compliance and research (also their most), else 90);"
    " at most 730.",
)
@click.option("--source", default=None, help="Ingest tokens (required): the recording source the token ingests for.")
def tokens_create(username: str, scope: str, days: int | None, source: str | None) -> None:
    """Create a token and print it (only it, on standard output, once: it is not stored)."""
    if scope == "ingest" and source is None:
        raise click.UsageError("an ingest token needs --source: the one source (telephony system) it ingests for")
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        user = accounts.user_by_username(session, username)
        token, plain = tokens.create_token(
            session,
            actor=CLI_ACTOR,
            user=user,
            scope=scope,
            lifetime=timedelta(days=days) if days else None,
            source=source,
        )
        hand_over(plain)
        session.commit()
        click.echo(f"token {token.id} for {user.username} ({scope})", err=True)


@tokens_group.command("list")
@click.option("--user", "username", default=None, help="Only this account's tokens.")
def tokens_list(username: str | None) -> None:
    """List API tokens, newest first, revoked and expired too (never the token itself, which is not stored)."""
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        user_id = _named_user_id(session, username, given_as="--user")
        rows = [
            (
                token.id,
                token.user.username,
                token.scope,
                token.created_at,
                token.expires_at,
                token.last_used_at,
                token.revoked_at,
            )
            for token in tokens.list_tokens(session, user_id=user_id)
        ]
    echo_table(("id", "user", "scope", "created", "expires", "last_used", "revoked"), rows)


@tokens_group.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (as `tokens list` and the admin pages list it), or by the token itself (one found
    leaked), which is never printed."""
    runtime = cli_support.load_runtime()
    with runtime.sessions() as session:
        asked_at = utcnow()
        token = tokens.revoke_token(session, actor=CLI_ACTOR, token_id=token_id)
        session.commit()
        revoked_at = token.revoked_at or asked_at
        earlier = revoked_at < asked_at  # revoking is idempotent: an earlier revocation stands
        click.echo(
            f"{token.id} was already revoked on {revoked_at:%Y-%m-%d %H:%M} UTC" if earlier else f"revoked {token.id}"
        )
