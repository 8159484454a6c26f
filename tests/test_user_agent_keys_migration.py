"""Migration 0052 keys the agent accounts made before it (`users.agent_key`, `name_key` of the ref, filled in Python),
so that an account "FI-4021" is the agent of the calls sent as "fi-4021" from the upgrade on, and a second account of
the agent in another letter case is refused. Two accounts made before whose refs differ only in case do not stop the
upgrade (the key is not unique): both are the agent. The downgrade drops the key and its index in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.agent_accounts import checked_agent_ref
from recordings_service.errors import Conflict
from recordings_service.models.account import Role
from tests.factories.migrations import database_at, user_before

BEFORE = "0051_withheld_feed"
DECOMPOSED = "A\u0308nna.K"  # "Änna.K" typed with A + U+0308


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_agent_accounts_made_before_are_keyed_and_the_downgrade_drops_the_key(kind: str, tmp_path: Path) -> None:
    with database_at(BEFORE, kind, tmp_path) as engine:
        made = {
            user_before(engine, role=Role.AGENT, username="liisa", agent_ref="FI-4021"): "fi-4021",
            user_before(engine, role=Role.AGENT, username="anna", agent_ref=DECOMPOSED): "\u00e4nna.k",
            user_before(engine, role=Role.AGENT, username="aino", agent_ref="AB-1"): "ab-1",
            user_before(engine, role=Role.AGENT, username="aapo", agent_ref="ab-1"): "ab-1",
            user_before(engine, role=Role.QA_SUPERVISOR, username="qa"): None,
        }

        schema.upgrade(engine)

        assert _keys(engine) == made
        with Session(engine) as session:
            for spelling in ("fi-4021", "\u00c4NNA.K"):
                with pytest.raises(Conflict):
                    checked_agent_ref(session, Role.AGENT, spelling)
            assert checked_agent_ref(session, Role.AGENT, "fi-4022") == "fi-4022"

        config = schema.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, BEFORE)
        assert "agent_key" not in {column["name"] for column in inspect(engine).get_columns("users")}
        assert "ix_users_agent_key" not in {index["name"] for index in inspect(engine).get_indexes("users")}
        schema.upgrade(engine)
        assert _keys(engine) == made


def _keys(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        return {row_id: key for row_id, key in connection.execute(text("SELECT id, agent_key FROM users"))}
