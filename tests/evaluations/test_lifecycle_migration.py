"""Migration 0021 on a database that already holds a call scored twice by one evaluator on one form: the
newest evaluation stays, the older becomes its version 1, and the unique rule then holds. Downgrade works."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from recordings_service import schema

ROWS = [
    # id, created_at, score: the older first
    ("01JAAAAAAAAAAAAAAAAAAAAAA1", "2026-11-02 10:00:00.000000", 50.0),
    ("01JAAAAAAAAAAAAAAAAAAAAAA2", "2026-11-03 10:00:00.000000", 90.0),
]


def test_repeated_evaluations_are_folded_into_versions_and_downgrade_works(tmp_path: Path) -> None:
    # A plain engine: without Callvault's foreign-key pragma the rows need no calls, forms or users around them.
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, "0020_transcripts_at_rest")
    with engine.begin() as connection:
        for evaluation_id, created, score in ROWS:
            connection.execute(
                text(
                    "INSERT INTO evaluations (id, recording_id, form_id, evaluator_id, agent_ref, queue, comment,"
                    " score, critical_failed, created_at) VALUES (:id, 'REC', 'FORM', 'USER', 'agent-1', 'sales',"
                    " '', :score, 0, :created)"
                ),
                {"id": evaluation_id, "score": score, "created": created},
            )
            connection.execute(
                text(
                    "INSERT INTO evaluation_answers (id, evaluation_id, question_id, value, comment)"
                    " VALUES (:id, :evaluation_id, 'Q1', :value, '')"
                ),
                {
                    "id": evaluation_id[:-2] + "B" + evaluation_id[-1],
                    "evaluation_id": evaluation_id,
                    "value": "no" if score < 60 else "yes",
                },
            )

    schema.upgrade(engine, "0021_evaluation_lifecycle")

    with engine.connect() as connection:
        kept = connection.execute(text("SELECT id, version, state, score FROM evaluations")).all()
        assert [tuple(row) for row in kept] == [(ROWS[1][0], 2, "submitted", 90.0)]
        versions = connection.execute(text("SELECT evaluation_id, version, score, answers FROM evaluation_versions"))
        ((evaluation_id, number, score, answers),) = versions.all()
        assert (evaluation_id, number, score) == (ROWS[1][0], 1, 50.0)
        assert '"value": "no"' in answers
        assert connection.execute(text("SELECT count(*) FROM evaluation_answers")).scalar() == 1

    config = schema.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020_transcripts_at_rest")
    with engine.connect() as connection:
        columns = {row[1] for row in connection.execute(text("PRAGMA table_info(evaluations)"))}
    assert "state" not in columns and "version" not in columns
    engine.dispose()
