"""How trainers see agents: as stable pseudonyms (`agent-…`), or by their refs where the settings allow it.

The pseudonym is a keyed HMAC of the agent ref (`research.pseudonyms`), so it stays the same across samples,
clips and sets and cannot be reversed, nor checked against a guessed ref, without the key. The key is random
and kept in `training_secrets` sealed by the master key (Tink AEAD, bound to its name), because the master key
is a Tink keyset whose raw bytes cannot be used to derive one; rotating the master key keeps the pseudonyms
(old master keys still unseal), and deleting the row gives every agent a new pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.models import TrainingSecret
from recordings_service.research.pseudonyms import new_key, pseudonym
from recordings_service.storage.encryption import Envelope

KEY_NAME = "agent_pseudonyms"


def secret_bound_to(name: str) -> str:
    """What a training secret is sealed bound to: its name."""
    return "training/" + name


_BOUND_TO = secret_bound_to(KEY_NAME)


@dataclass(frozen=True)
class AgentNames:
    """Turns an agent ref into what a trainer is shown; `key` None shows the refs themselves."""

    key: bytes | None

    def __call__(self, agent_ref: str) -> str:
        return agent_ref if self.key is None else pseudonym(self.key, kind="agent", value=agent_ref)


def agent_names(session: Session, envelope: Envelope, *, show_agents: bool) -> AgentNames:
    """The naming in force: refs with `show_agents`, else pseudonyms under the library's key (made on first use)."""
    if show_agents:
        return AgentNames(None)
    return AgentNames(envelope.open_secret(_sealed_key(session, envelope), object_id=_BOUND_TO))


def _sealed_key(session: Session, envelope: Envelope) -> bytes:
    found = _stored(session)
    if found is not None:
        return found
    sealed = envelope.seal_secret(new_key(), object_id=_BOUND_TO)
    try:
        # Two first uses at once: the loser's insert fails on the name and it reads the winner's key.
        with session.begin_nested():
            session.add(TrainingSecret(name=KEY_NAME, sealed=sealed.wrapped, master_key_id=sealed.master_key_id))
    except IntegrityError:
        stored = _stored(session)
        assert stored is not None
        return stored
    return sealed.wrapped


def _stored(session: Session) -> bytes | None:
    return session.scalar(
        select(TrainingSecret.sealed).where(TrainingSecret.name == KEY_NAME).execution_options(populate_existing=True)
    )
