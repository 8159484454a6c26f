"""Correcting which agent an agent account is. Agent refs are unique among accounts, disabled ones too: a ref given
to the wrong account left the agent it names no way to get an account, and until that account was disabled its
holder saw the agent's released feedback."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.account_locks import locked_user
from recordings_service.accounts import checked_agent_ref
from recordings_service.audit import Actor, record_event
from recordings_service.errors import Conflict
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.tokens import revoke_live_tokens


def change_agent_ref(session: Session, *, actor: Actor, user_id: str, agent_ref: str) -> User:
    """Make the agent account the agent of `agent_ref`; its sessions end and its API tokens are revoked, as what it
    may see changes. The same ref again changes nothing and is not audited."""
    user = locked_user(session, user_id)
    wanted = agent_ref.strip() or None
    if user.agent_ref == wanted:
        return user
    checked = checked_agent_ref(session, Role(user.role), wanted)
    previous = user.agent_ref
    try:
        with session.begin_nested():  # another account given the same ref meanwhile: the unique key says so
            user.agent_ref = checked
            user.session_version += 1
            session.flush()
    except IntegrityError:
        raise Conflict(f"another account is already agent {checked}", why="agent_ref_taken") from None
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
