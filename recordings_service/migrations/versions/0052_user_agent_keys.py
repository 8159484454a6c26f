"""An agent account is its agent in any letter case and either Unicode form (`users.agent_key`, `name_key` of its
`agent_ref`), as a call's `agent_key` matches the agent in plans, search and trends: an account "FI-4021" saw none of
the evaluations released of its calls the telephony system sent as "fi-4021" (the calls its QA lead's plan assigned
to that agent), and a second account "fi-4021" could be made.

The keys of the accounts made before are filled in Python (`name_key`; the databases' `lower()` folds differently).
The key is indexed, not unique: two accounts made before whose refs differ only in letter case or Unicode form are one
agent now, both seeing its released feedback, until an administrator gives one of them another ref; refusing the
upgrade would have stopped the service at its start. New ones are refused by `agent_accounts.checked_agent_ref`.

An account a process of the release before makes or gives another ref while one host upgrades (infra/README.md)
is keyed by its ref only once an administrator sets the ref again; the window is the upgrade's.

Revision ID: 0052_user_agent_keys
Revises: 0051_withheld_feed
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0052_user_agent_keys"
down_revision: str | Sequence[str] | None = "0051_withheld_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the table stands at this revision.
users = sa.table("users", sa.column("id", sa.String), sa.column("agent_ref", sa.String), sa.column("agent_key"))
KEY_TYPE = sa.String(300)  # as wide as folding can make a ref of 100 (`models.recording.KEY_WIDTH`)
INDEX = "ix_users_agent_key"


def upgrade() -> None:
    # In place, as 0051's column: a column that may be NULL is added so on either database.
    op.add_column("users", sa.Column("agent_key", KEY_TYPE, nullable=True))
    _fill_keys()
    op.create_index(INDEX, "users", ["agent_key"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="users")
    # In place on either database (SQLite since 3.35), as 0051's: batch mode's copy of the table dropped the old one,
    # which the rows of other tables refer to (a user's tokens, evaluations, audit events).
    op.execute("ALTER TABLE users DROP COLUMN agent_key")


def _fill_keys() -> None:
    """The key of each account with an agent ref (a few thousand at most: agents, one account each)."""
    from recordings_service.models.recording import name_key

    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.agent_ref).where(users.c.agent_ref.is_not(None))).all()
    if rows:
        update = users.update().where(users.c.id == sa.bindparam("row_id")).values(agent_key=sa.bindparam("key"))
        connection.execute(update, [{"row_id": row_id, "key": name_key(ref)} for row_id, ref in rows])
