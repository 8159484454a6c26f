"""Which agent an agent account is, and correcting it. Agent refs are unique among accounts, disabled ones too, in any
letter case and Unicode form: a ref given to the wrong account left the agent it names no way to get an account, and
until that account was disabled its holder saw the agent's released feedback."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.account_locks import locked_user
from recordings_service.audit import Actor, record_event
from recordings_service.errors import Conflict, Invalid
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.models.recording import name_key
from recordings_service.tokens import revoke_live_tokens


def change_agent_ref(session: Session, *, actor: Actor, user_id: str, agent_ref: str) -> User:
    """Make the agent account the agent of `agent_ref`; its sessions end and its API tokens are revoked, as what it
    may see changes. The same ref again changes nothing and is not audited (unless the account's key is not the ref's:
    a ref a process of the release before 0052 set during the upgrade, keyed again so)."""
    user = locked_user(session, user_id)
    wanted = agent_ref.strip() or None
    if user.agent_ref == wanted and user.agent_key == (wanted and name_key(wanted)):
        return user
    checked = checked_agent_ref(session, Role(user.role), wanted, user_id=user.id)
    previous = user.agent_ref
    try:
        with session.begin_nested():  # another account given the same ref meanwhile: the unique key says so
            user.agent_ref = checked
            user.session_version += 1
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"another account is already agent {checked}", why="agent_ref_taken", field="agent_ref"
        ) from None
    # Its tokens too: an agent's token reads the calls of the account's agent ref, so one issued under the old ref
    # went on working and read the new agent's released calls. Revoked before the event, as `change_role` does.
    revoke_live_tokens(session, actor=actor, user=user, reason="agent_ref_changed")
    record_event(
        session,
        actor=actor,
        action="user.agent_ref_changed",
        object_type="user",
        object_id=user.id,
        details={"from": previous, "to": checked},
    )
    return user


def checked_agent_ref(session: Session, role: Role, agent_ref: str | None, *, user_id: str | None = None) -> str | None:
    """An agent account names the agent it is, which no other account (but `user_id`'s) does in any letter case and
    Unicode form; no other role names one."""
    if role is not Role.AGENT:
        if agent_ref is not None:
            raise Invalid("agent_ref", "only an agent account has an agent ref", why="agent_ref_not_agent")
        return None
    if agent_ref is None or len(agent_ref) > 100:
        raise Invalid(
            "agent_ref",
            "an agent account needs the agent ref its calls carry (1–100 characters)",
            why="agent_ref_missing",
        )
    # The agent in any letter case and Unicode form, as the calls name it (`name_key`): "fi-4021" beside "FI-4021" was
    # a second account of one agent, each seeing part of its feedback.
    taken = select(User.agent_ref).where(User.agent_key == name_key(agent_ref))
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    holder_ref = session.scalars(taken.limit(1)).first()
    if holder_ref is not None:
        raise Conflict(f"another account is already agent {holder_ref}", why="agent_ref_taken", field="agent_ref")
    return agent_ref
