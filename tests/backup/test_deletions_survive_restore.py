"""A database restored from a backup taken before an erasure deletes the erased calls again, and puts back objections
recorded since, from the store's ledger: the restore does it, and `callvault replay-ledger` after a restore by other
means (before, a customer who objected to research after the backup could be selected for research again).

Found by exploratory testing (a disaster-recovery drill): the restore brought an erased customer's calls back, their
metadata and transcripts readable again, and nothing told the operator; audit verify, the integrity check and the
retention check all came back clean. A call a legal hold in the restored database still holds (the hold released
after the backup without the ledger knowing it, then the call erased) is left and named for review, never deleted
against a hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from recordings_service import audit
from recordings_service.models import AuditEvent, Customer, Recording, Transcript
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.fulfilment import Answer, after_commit, fulfil_request
from recordings_service.privacy.holds import place_hold, release_hold
from recordings_service.privacy.ledger import DELETIONS
from recordings_service.privacy.subjects import create_request
from recordings_service.runtime import Runtime
from tests.backup.conftest import SqliteTarget, back_up
from tests.factories.privacy import OFFICER, ORG_ZONE
from tests.factories.recordings import ingest_file
from tests.factories.reviews import make_transcribed_call
from web.cli_backup import replay_ledger

ERASED, KEPT = "CRM-ERASED-1", "CRM-KEPT-2"


def fulfil(runtime: Runtime, customer_ref: str, kind: str, answer: Answer, *, written: bool = True) -> None:
    """A subject request of `kind` registered and carried out as the API does: committed, then `after_commit` (left
    out where not `written`, as when the store refused the ledger's entry)."""
    received = datetime.now(UTC) - timedelta(hours=1)
    with runtime.sessions() as session:
        request = create_request(session, actor=OFFICER, customer_ref=customer_ref, kind=kind, received_at=received)
        done = fulfil_request(
            session, runtime.store, actor=OFFICER, request_id=request.id, answer=answer, zone=ORG_ZONE
        )
        session.commit()
        if written:
            after_commit(session, runtime.store, done)
            session.commit()


def test_calls_erased_after_the_backup_are_erased_again_by_the_restore(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sqlite_source
    with source.sessions() as session:
        held = ingest_file(session, source.store, source.envelope, source.settings, customer_ref=ERASED).recording
        spoken = make_transcribed_call(session, source.store, source.envelope, customer_id=held.customer_id)
        kept = ingest_file(session, source.store, source.envelope, source.settings, customer_ref=KEPT).recording
        hold = place_hold(session, actor=OFFICER, reason="Complaint 7 under review", recording_id=held.id).hold
        session.commit()
    back_up(source, tmp_path / "backup", monkeypatch)

    # After the backup: the hold is released (the store down when its ledger entry was due: nothing written) and
    # the customer erased; then the database is lost.
    with source.sessions() as session:
        release_hold(session, actor=OFFICER, hold_id=hold.id, reason="Complaint 7 closed")
        session.commit()
    fulfil(source, ERASED, "erasure", Answer())
    fulfil(source, KEPT, "objection", Answer(research=True))  # the other customer objects to research
    assert any(info.key.startswith(DELETIONS) for info in source.store.list(DELETIONS))

    into = SqliteTarget(source, tmp_path)
    restored = into.callvault("restore", str(tmp_path / "backup"))

    assert restored.exit_code == 0, restored.output
    # The held call stays for review; the other erased call goes again, with its transcript and data key.
    assert "deletions replayed=1 held=1 objections replayed=1 holds placed=0 released=0" in restored.output
    assert f"recording {held.id}: deleted after the backup, but on legal hold here" in restored.output
    assert "subject requests registered after it (other than restrictions carried out)" in restored.output
    assert "the ledger came from the backup itself" not in restored.output  # the store's own, up to date
    target = into.runtime()
    with target.sessions() as session:
        status = {id_: state for id_, state in session.execute(select(Recording.id, Recording.status))}
        assert status[spoken.id] == RecordingStatus.DELETED
        assert RecordingStatus.DELETED not in (status[held.id], status[kept.id])
        assert session.scalars(select(Transcript).where(Transcript.recording_id == spoken.id)).all() == []
        assert session.get_one(Recording, spoken.id).wrapped_data_key == b""
        replays = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.deletions_replayed")).all()
        assert [event.details for event in replays] == [{"recordings": 1, "held": 1, "ledger_entries": 1}]
        objector = session.get_one(Recording, kept.id).customer
        assert objector is not None and objector.objects_to_research and not objector.objects_to_marketing
        [replayed] = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.objection_replayed"))
        assert replayed.object_id == objector.id and replayed.details["objects_to_research"] is True
        _checked, broken = audit.verify_chain(session, keys=audit.session_keys(session))
        assert broken is None

    # Once compliance releases the restored hold, replaying again (as after a restore by other means) erases it too.
    with target.sessions() as session:
        release_hold(session, actor=OFFICER, hold_id=hold.id, reason="Complaint 7 closed (after the restore)")
        session.commit()
    again = into.callvault("replay-ledger")
    assert again.exit_code == 0, again.output
    assert again.output.strip().endswith(
        "deletions replayed=1 held=0 objections replayed=0 holds placed=0 released=0 restrictions replayed=0 lifted=0"
    )
    with target.sessions() as session:
        assert session.get_one(Recording, held.id).status == RecordingStatus.DELETED
    target.engine.dispose()


def test_a_replay_never_sets_an_objection_older_than_the_one_the_database_knows(
    sqlite_source: Runtime,
) -> None:
    """Found by testing the ledger as an operator: `replay-ledger` on a live database (or after a replay from a newer
    ledger) set each customer to the newest entry its ledger held, although the database knew a newer decision:
    here the customer objected (ledgered), then took it back while the store was down (the write lost)."""
    source = sqlite_source
    with source.sessions() as session:
        ingest_file(session, source.store, source.envelope, source.settings, customer_ref=KEPT)
        session.commit()
    fulfil(source, KEPT, "objection", Answer(research=True))
    fulfil(source, KEPT, "objection", Answer(research=False), written=False)

    replayed = replay_ledger(source)  # what `callvault replay-ledger` runs

    assert replayed.objections.changed == 0
    with source.sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.customer_ref == KEPT)).one()
        assert not customer.objects_to_research
