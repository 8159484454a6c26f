"""Use cases for staff and partner accounts: creation, administration and passwords.

Signing in with a password is `recordings_service.sign_in`, counting its failures `recordings_service.lockout`, and
the second factor (sealed TOTP seeds, enrolment links, MFA reset) `recordings_service.mfa`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.account_locks import keep_an_active_admin, locked_user
from recordings_service.account_names import checked_display_name
from recordings_service.agent_accounts import checked_agent_ref
from recordings_service.audit import SYSTEM_ACTOR_NAMES, Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, NotFound, Refusal
from recordings_service.lockout import clear_login_failures, login_locked
from recordings_service.models import AuditEvent, Institute, User
from recordings_service.models.account import Role
from recordings_service.password_policy import check_password_policy, hashed_texts, password_text
from recordings_service.storage.encryption import Envelope
from recordings_service.tokens import revoke_live_tokens

# How long a second submission of the form that created an account counts as the same request.
REPEAT_WINDOW = timedelta(minutes=10)
# argon2id with ASVS-level cost: 46 MiB memory, t=1 (OWASP's first recommended configuration).
_hasher = PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1)
# Verified against when there is no hash to check (a name nobody has, a locked account, one awaiting its new
# password), so a refusal takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("callvault-no-such-account")
# Every person proves a second factor (each role reaches calls, evidence or accounts); services use API tokens.
MFA_REQUIRED_ROLES = frozenset(set(Role) - {Role.SERVICE})


def hash_password(password: str) -> str:
    """The argon2id hash of a password its caller has held to `check_password_policy` (each place that takes a new
    one checks it first, before any other work), made of its `password_text`."""
    return _hasher.hash(password_text(password))


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # As slow as a wrong password: a quick "no" would tell whoever times it that the account exists and awaits
        # its holder's new password (created, or reset, and the link not used yet).
        take_as_long_as_a_password_check(password)
        return False
    return any(_verified(password_hash, text) for text in hashed_texts(password))


def _verified(password_hash: str, text: str) -> bool:
    with suppress(VerificationError, InvalidHashError):
        return _hasher.verify(password_hash, text)
    return False


def take_as_long_as_a_password_check(password: str) -> None:
    """Spend the time a password check takes, on a hash no account has, so a refusal reads like a wrong password."""
    for text in hashed_texts(password):
        _verified(_DUMMY_HASH, text)


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: str,
    password: str | None,
    display_name: str = "",
    institute_id: str | None = None,
    agent_ref: str | None = None,
    lead_id: str | None = None,
) -> User:
    """Create an account; service accounts use API tokens only and never have a password.

    Without `password` a person's account has none until its holder sets one through the enrolment link
    (`mfa.issue_enrolment_link`), so whoever created it never knows it.

    A research partner belongs to exactly one institute (it sees that institute's batches only); no other
    role has one. An agent account is the agent its calls name by `agent_ref` (it sees the evaluations released
    to it); no other role has one. `lead_id` names the person's lead, who also gets the disputes of the
    evaluations that person scores.
    """
    role_value = _parsed_role(role)
    username = username.strip()
    # ASCII only: names match in any case, and the databases' lower() folds ASCII alone ("Ä" could never sign in).
    bare = username.replace(".", "").replace("-", "").replace("_", "")
    if not username or len(username) > 64 or not (bare.isascii() and bare.isalnum()):
        raise Invalid("username", "use 1–64 letters a–z, digits, '.', '-' or '_'", why="username_format")
    if username.lower() in SYSTEM_ACTOR_NAMES:  # the trail would show this person's acts as a job's or the CLI's
        raise Invalid("username", "the audit trail's name of a job or the CLI: choose another", why="username_reserved")
    if session.scalar(select(User).where(func.lower(User.username) == username.lower())) is not None:
        raise Conflict(f"user {username} already exists", why="username_taken")
    display_name = checked_display_name(display_name)
    _check_institute(session, role_value, institute_id or None)
    agent_ref = checked_agent_ref(session, role_value, (agent_ref or "").strip() or None)
    _check_lead(session, lead_id or None)
    password_hash = None
    if password is not None and role_value is not Role.SERVICE:
        check_password_policy(password, context=(username, display_name))
        password_hash = hash_password(password)
    user = User(
        username=username,
        display_name=display_name,
        role=role_value.value,
        password_hash=password_hash,
        institute_id=institute_id or None,
        agent_ref=agent_ref,
        lead_id=lead_id or None,
    )
    try:
        # Two submissions of one form (a double click) race to here: the later meets the earlier's unique row.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        if find_user(session, username) is not None:
            raise Conflict(f"user {username} already exists", why="username_taken") from None
        raise Conflict(
            f"another account is already agent {agent_ref}", why="agent_ref_taken", field="agent_ref"
        ) from None
    ties = {"institute_id": user.institute_id, "agent_ref": user.agent_ref, "lead_id": user.lead_id}
    details = {"role": role_value.value, **{name: value for name, value in ties.items() if value is not None}}
    record_event(session, actor=actor, action="user.created", object_type="user", object_id=user.id, details=details)
    return user


def repeated_creation(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: str,
    display_name: str = "",
    institute_id: str | None = None,
    agent_ref: str | None = None,
    lead_id: str | None = None,
) -> User | None:
    """The account `create_user` with these arguments made for `actor` moments ago, not enrolled yet: a form sent
    twice (a double click) finds it, so the second answer gives the link the first answer showed to nobody."""
    user = find_user(session, username)
    if user is None or user.password_hash or user.mfa_enrolled or user.last_login_at is not None:
        return None
    asked = (role, display_name.strip(), institute_id or None, (agent_ref or "").strip() or None, lead_id or None)
    if (user.role, user.display_name, user.institute_id, user.agent_ref, user.lead_id) != asked:
        return None
    created = select(AuditEvent.actor_id).where(AuditEvent.action == "user.created", AuditEvent.object_id == user.id)
    creator = session.scalar(created.where(AuditEvent.occurred_at > utcnow() - REPEAT_WINDOW))
    return user if creator is not None and creator == actor.id else None


def _parsed_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(each.value for each in Role)
        raise Invalid("role", f"unknown role {role!r}; one of {choices}", why="invalid_choice") from None


def _check_lead(session: Session, lead_id: str | None, *, of: User | None = None) -> None:
    """A lead is an active QA supervisor other than the person led."""
    if lead_id is None:
        return
    lead = session.get(User, lead_id)
    if lead is None or not lead.active or lead.role != Role.QA_SUPERVISOR:
        raise Invalid("lead", "a lead is an active QA supervisor", why="lead_not_supervisor")
    if of is not None and lead.id == of.id:
        raise Invalid("lead", "nobody leads themselves", why="lead_self")


def set_lead(session: Session, *, actor: Actor, user_id: str, lead_id: str | None) -> User:
    """Name the person's lead (None: no lead); the disputes of the evaluations they score also go to the lead."""
    user = locked_user(session, user_id)
    if user.lead_id == lead_id:  # a lead disabled since, left as the page showed it, is no new choice to refuse
        return user
    _check_lead(session, lead_id, of=user)
    previous, user.lead_id = user.lead_id, lead_id
    session.flush()
    details = {"from": previous, "to": lead_id}
    record_event(
        session, actor=actor, action="user.lead_changed", object_type="user", object_id=user.id, details=details
    )
    return user


def _check_institute(session: Session, role: Role, institute_id: str | None) -> None:
    if role is not Role.RESEARCH_PARTNER:
        if institute_id is not None:
            raise Invalid("institute", "only a research partner belongs to an institute", why="institute_not_partner")
        return
    if institute_id is None:
        raise Invalid(
            "institute", "a research partner must belong to an institute; give its id", why="institute_missing"
        )
    if session.get(Institute, institute_id) is None:
        raise Invalid(
            "institute",
            f"no institute with id {institute_id}; see the research institutes page",
            why="institute_not_found",
        )


def has_active_admin(session: Session) -> bool:
    """Whether someone can administer: a disabled administrator cannot sign in, so counts for nothing."""
    admins = select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))
    return session.scalar(admins.limit(1)) is not None


def find_user(session: Session, username: str) -> User | None:
    """The account with this username, compared case-insensitively as at creation."""
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", why="user_not_found")
    return user


def user_by_username(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"user {username} not found", why="user_not_found")
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(func.lower(User.username))).all()


def disable_user(session: Session, *, actor: Actor, user_id: str) -> User:
    """Deactivate an account and end all its login sessions; its API tokens are revoked and an enrolment link not
    yet used is spent, so enabling the account again revives neither a token nor a link that may have leaked (a
    leaver's token left on a laptop, say). The last active administrator stays: nobody could manage accounts any
    more."""
    user = locked_user(session, user_id, with_admins=True)
    _refuse_self(actor, user, "disable", why="own_account_disable")
    keep_an_active_admin(session, user, "disabled", why="last_admin")
    if user.active:
        user.active = False
        user.session_version += 1
        user.enrol_token_hash = user.enrol_expires_at = None
        # The tokens first: their rows are locked before any event locks the audit chain's head, as a revocation of
        # one of them locks it (the other order deadlocked with that revocation on PostgreSQL).
        revoke_live_tokens(session, actor=actor, user=user, reason="account_disabled")
        record_event(session, actor=actor, action="user.disabled", object_type="user", object_id=user.id)
    return user


class Enabling(StrEnum):
    """What `enable_user` did, so nobody is told of a change that did not happen."""

    ENABLED = "enabled"
    UNLOCKED = "unlocked"
    UNCHANGED = "unchanged"  # active and not locked: nothing to do, nothing audited


def enable_user(session: Session, envelope: Envelope, *, actor: Actor, user_id: str) -> Enabling:
    """Enable a disabled account, or lift a lockout of an active one (each audited). An account whose second factor
    is sealed under a master key the keyset lacks is refused until it is reset: enabled, its seed counts in the
    check of the keyset (`runtime.check_master_key`), which then refused every process's start."""
    user = locked_user(session, user_id)
    if not user.active and user.mfa_seed is not None and envelope.lacks_key_of(user.mfa_seed):
        raise Conflict(
            f"the second factor of {user.username} is sealed under a master key CALLVAULT_MASTER_KEY lacks (key id"
            f" {envelope.sealed_under(user.mfa_seed)}): reset it first (callvault users reset-mfa {user.username}, or"
            " the account page), then enable the account",
            why="second_factor_unreadable",
            refusal=Refusal(actor, "user.enable_refused", "user", user.id, {"reason": "second_factor_unreadable"}),
        )
    if not user.active:
        user.active = True
        clear_login_failures(user)
        # Accounts disabled before disabling revoked tokens still hold theirs (none is made for a disabled one);
        # revoked before the event, as on disabling.
        revoke_live_tokens(session, actor=actor, user=user, reason="account_disabled")
        record_event(session, actor=actor, action="user.enabled", object_type="user", object_id=user.id)
        return Enabling.ENABLED
    if login_locked(user, utcnow()):
        clear_login_failures(user)
        record_event(session, actor=actor, action="user.unlocked", object_type="user", object_id=user.id)
        return Enabling.UNLOCKED
    return Enabling.UNCHANGED


def reset_password(session: Session, *, actor: Actor, user_id: str) -> User:
    """Make the password unusable, lift any lockout and end the account's sessions.

    Nobody learns a new password: the holder sets one through an enrolment link, proving their second
    factor, so an admin's reset never lets the admin sign in as the account.
    """
    user = locked_user(session, user_id)
    if user.role == Role.SERVICE:
        raise Invalid("password", "service accounts sign in with API tokens only", why="service_tokens_only")
    _refuse_self(actor, user, "reset the password of", why="own_account_password")
    refuse_second_reset(session, actor=actor, user=user, resetting="password")
    user.password_hash = None
    user.session_version += 1
    clear_login_failures(user)
    record_event(session, actor=actor, action="user.password_reset", object_type="user", object_id=user.id)
    return user


_FACTORS = {"password": "password", "mfa": "second factor"}


def refuse_second_reset(session: Session, *, actor: Actor, user: User, resetting: str) -> None:
    """Refuse an admin the reset of one factor (`password`, `mfa`) while their own reset of the other is outstanding.

    With both reset, whoever holds the account's enrolment link sets both, and the resetting admin is shown it:
    one admin alone could take the account over. A second admin must reset the other factor, which is their
    approval of the first (a holder who lost both needs two admins, or the operator's `callvault users`).
    """
    other = "mfa" if resetting == "password" else "password"
    outstanding = user.password_hash is None if other == "password" else not user.mfa_enrolled
    latest = select(AuditEvent.actor_id).where(
        AuditEvent.action == f"user.{other}_reset", AuditEvent.object_id == user.id
    )
    if actor.id is None or not outstanding or session.scalar(latest.order_by(AuditEvent.seq.desc())) != actor.id:
        return
    details = {"reset": resetting, "reason": f"{other}_reset_by_same_admin"}
    raise Conflict(
        f"you reset this account's {_FACTORS[other]} and its holder has not set it again: another admin must reset"
        f" its {_FACTORS[resetting]}",
        why=f"second_reset_{resetting}",
        refusal=Refusal(
            actor=actor, action="user.reset_refused", object_type="user", object_id=user.id, details=details
        ),
    )


# Accounts tied from creation to what no other role has (service: no password, and people have no business holding
# ingest-only rights; a partner: its institute; an agent: its agent ref): a switch into or out of one is a new account.
_TIED_ROLES = (
    (Role.SERVICE, "a person and a service", "role_switch_service"),
    (Role.RESEARCH_PARTNER, "staff and a research partner", "role_switch_partner"),
    (Role.AGENT, "staff and an agent", "role_switch_agent"),
)


def change_role(session: Session, *, actor: Actor, user_id: str, role: str) -> User:
    """Give an account another role; its sessions end so the new rights (and MFA duty) apply at once, and its API
    tokens are revoked: a token's rights are its scope within the account's role, so a token issued under the old
    role gained the new role's (a QA supervisor's read token, the role changed to compliance, read calls kept for
    compliance only), and a role changed back revived those it had stopped."""
    new_role = _parsed_role(role)
    user = locked_user(session, user_id, with_admins=True)
    _refuse_self(actor, user, "change the role of", why="own_account_role")
    if user.role == new_role:
        return user
    for tied, between, why in _TIED_ROLES:
        if tied in (new_role, user.role):
            raise Invalid("role", f"create a separate account to switch between {between}", why=why)
    keep_an_active_admin(session, user, "given another role", why="last_admin_role")
    old_role = user.role
    user.role = new_role.value
    user.session_version += 1
    revoke_live_tokens(session, actor=actor, user=user, reason="role_changed")  # before the event: see disable_user
    record_event(
        session,
        actor=actor,
        action="user.role_changed",
        object_type="user",
        object_id=user.id,
        details={"from": old_role, "to": new_role.value},
    )
    return user


def mfa_required(user: User) -> bool:
    return user.role in MFA_REQUIRED_ROLES or user.mfa_enrolled


def _refuse_self(actor: Actor, user: User, what: str, *, why: str) -> None:
    if actor.id is not None and actor.id == user.id:
        raise Conflict(f"you cannot {what} your own account", why=why)
