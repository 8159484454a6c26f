"""Evaluation lifecycle: drafts, versions, release to agents, acknowledge, dispute, resolve; the agent role.

Calls scored more than once on the same form by the same evaluator (possible before this revision) keep
the newest evaluation; the older ones become its earlier versions, so nothing scored is lost.

Revision ID: 0021_evaluation_lifecycle
Revises: 0020_transcripts_at_rest
Create Date: 2026-12-02 05:45:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from ulid import ULID

import recordings_service.db

revision: str = "0021_evaluation_lifecycle"
down_revision: str | Sequence[str] | None = "0020_transcripts_at_rest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = recordings_service.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evaluation_versions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("evaluation_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", _MOMENT, nullable=True),
        sa.Column("replaced_by", sa.String(length=26), nullable=False),
        sa.Column("replaced_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name=op.f("fk_evaluation_versions_evaluation_id_evaluations")
        ),
        sa.ForeignKeyConstraint(["replaced_by"], ["users.id"], name=op.f("fk_evaluation_versions_replaced_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_versions")),
        sa.UniqueConstraint("evaluation_id", "version", name="uq_evaluation_versions_version"),
    )
    with op.batch_alter_table("evaluation_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_versions_evaluation_id"), ["evaluation_id"], unique=False)

    with op.batch_alter_table("evaluation_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at_s", sa.Double(), nullable=True))

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="submitted", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("submitted_at", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("updated_at", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("released_at", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("agent_response", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("agent_comment", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("responded_at", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("dispute_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", _MOMENT, nullable=True))
        batch_op.create_index(batch_op.f("ix_evaluations_dispute_state"), ["dispute_state"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_evaluations_resolved_by_users"), "users", ["resolved_by"], ["id"])

    op.execute(sa.text("UPDATE evaluations SET submitted_at = created_at"))
    _fold_repeated_evaluations()
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_evaluations_call_form_evaluator", ["recording_id", "form_id", "evaluator_id"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_ref", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("lead_id", sa.String(length=26), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_agent_ref"), ["agent_ref"])
        batch_op.create_foreign_key(batch_op.f("fk_users_lead_id_users"), "users", ["lead_id"], ["id"])


def _fold_repeated_evaluations() -> None:
    """Keep the newest evaluation of each (call, form, evaluator); the older ones become its earlier versions."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, recording_id, form_id, evaluator_id FROM evaluations ORDER BY created_at, id")
    ).all()
    groups: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row.recording_id, row.form_id, row.evaluator_id)].append(row)
    now = datetime.now(UTC)
    for repeated in (group for group in groups.values() if len(group) > 1):
        *older, newest = repeated
        for number, row in enumerate(older, start=1):
            answers = bind.execute(
                sa.text("SELECT question_id, value, comment FROM evaluation_answers WHERE evaluation_id = :id"),
                {"id": row.id},
            ).all()
            # Copied inside the database, so each column keeps its stored type on both backends.
            bind.execute(
                sa.text(
                    "INSERT INTO evaluation_versions (id, evaluation_id, version, score, critical_failed, comment,"
                    " answers, submitted_at, replaced_by, replaced_at) SELECT :id, :evaluation_id, :version, score,"
                    " critical_failed, comment, :answers, created_at, evaluator_id, :replaced_at FROM evaluations"
                    " WHERE id = :old_id"
                ).bindparams(sa.bindparam("answers", type_=sa.JSON()), sa.bindparam("replaced_at", type_=_MOMENT)),
                {
                    "id": str(ULID()),
                    "evaluation_id": newest.id,
                    "version": number,
                    "answers": [
                        {"question_id": a.question_id, "value": a.value, "comment": a.comment, "at_s": None}
                        for a in answers
                    ],
                    "replaced_at": now,
                    "old_id": row.id,
                },
            )
            bind.execute(sa.text("DELETE FROM evaluation_answers WHERE evaluation_id = :id"), {"id": row.id})
            bind.execute(sa.text("DELETE FROM evaluations WHERE id = :id"), {"id": row.id})
        bind.execute(
            sa.text("UPDATE evaluations SET version = :version WHERE id = :id"),
            {"version": len(repeated), "id": newest.id},
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_lead_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_users_agent_ref"), type_="unique")
        batch_op.drop_column("lead_id")
        batch_op.drop_column("agent_ref")

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_evaluations_call_form_evaluator", type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_evaluations_resolved_by_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_evaluations_dispute_state"))
        for column in (
            "resolved_at",
            "resolved_by",
            "resolution_note",
            "dispute_state",
            "responded_at",
            "agent_comment",
            "agent_response",
            "released_at",
            "updated_at",
            "submitted_at",
            "version",
            "state",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("evaluation_answers", schema=None) as batch_op:
        batch_op.drop_column("at_s")

    with op.batch_alter_table("evaluation_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_versions_evaluation_id"))
    op.drop_table("evaluation_versions")
