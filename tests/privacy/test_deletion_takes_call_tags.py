"""A deleted call's tags go with it: a tag is free text staff wrote about the call ("churn Virtanen"), the customer's
personal data as much as a comment is (the access package gives a customer their calls' tags).

Found by exploratory testing: the retention sweep and an erasure deleted or blanked every other row about the call,
but its `call_tags` rows stayed for good, still naming the deleted recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service.calls.tags import tag_calls
from recordings_service.models import CallTag
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.privacy import OFFICER, aged_call

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_sweep_deletes_a_calls_tags_and_counts_them_on_its_receipt(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    due = aged_call(session, bucket, envelope, started_at=NOW - timedelta(days=800), purposes=["training"])
    kept = aged_call(session, bucket, envelope, started_at=NOW - timedelta(days=10), purposes=["training"])
    supervisor = actor_of(make_user(session))
    tag_calls(session, actor=supervisor, recording_ids=[due.id, kept.id], tag="churn Virtanen")
    tag_calls(session, actor=supervisor, recording_ids=[due.id], tag="escalate")
    session.commit()

    report = sweep(sessions, bucket, now=NOW, batch=10, actor=OFFICER, dry_run=False)

    assert report.recording_ids == [due.id]
    tags_of = select(func.count()).select_from(CallTag).where(CallTag.recording_id == due.id)
    assert session.scalar(tags_of) == 0
    assert session.scalars(select(CallTag.tag).where(CallTag.recording_id == kept.id)).all() == ["churn Virtanen"]
    assert report.receipt is not None and report.receipt.counts["call_tags"] == 2
