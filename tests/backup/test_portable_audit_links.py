"""The links that put a search in a call's trail travel in a portable dump, and the restored chain still verifies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import audit, schema
from recordings_service.backup.portable import dump_portable, load_portable
from recordings_service.db import make_engine, new_id
from recordings_service.models import AuditEventRecording
from tests.factories.accounts import SYSTEM


def test_a_portable_dump_restores_the_links_and_the_chain_verifies(empty_database: str, tmp_path: Path) -> None:
    source = make_engine(f"sqlite:///{tmp_path / 'source.db'}")
    target = make_engine(empty_database)
    shown = new_id()
    try:
        schema.upgrade(source)
        with Session(source) as session:
            event = audit.record_event(
                session, actor=SYSTEM, action="recording.searched", details={"snippet_recordings": shown}
            )
            event_id = event.id
            session.commit()
        dump_portable(source, tmp_path / "dump.jsonl")

        load_portable(target, tmp_path / "dump.jsonl", revisions=sorted(schema.head_revisions()))

        with Session(target) as session:
            links = session.execute(select(AuditEventRecording.event_id, AuditEventRecording.recording_id)).all()
            assert [tuple(link) for link in links] == [(event_id, shown)]
            assert audit.verify_chain(session, keys=None) == (1, None)
    finally:
        source.dispose()
        target.dispose()
