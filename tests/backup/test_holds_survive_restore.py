"""Legal holds placed or released after a backup survive a restore of it, from the store's ledger.

Before, the restore only reminded that holds made since were lost: a call held since the backup for a dispute was
deletable again in the restored database (the sweep would take it), and an erasure made after a hold's release was
left undone, for review, since the restored hold still held the call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import audit
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, LegalHold, Recording
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.deletion import delete_recording
from recordings_service.privacy.fulfilment import Answer, after_commit, fulfil_request
from recordings_service.privacy.hold_ledger import HOLDS, record_hold
from recordings_service.privacy.holds import place_hold, release_hold
from recordings_service.privacy.ledger import read_entries
from recordings_service.privacy.subjects import create_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore
from tests.backup.conftest import SqliteTarget, back_up
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call
from tests.factories.recordings import ingest_file, make_token

DISPUTE = "Complaint 9: the customer disputes the meter reading agreed on this call"
LONG_AGO = datetime.now(UTC) - timedelta(days=800)


def placed(runtime: Runtime, reason: str, **target: str) -> str:
    """A hold placed as the API and the page place one: committed, then written to the ledger."""
    with runtime.sessions() as session:
        hold = place_hold(session, actor=OFFICER, reason=reason, **target).hold
        session.commit()
        record_hold(session, runtime.store, hold)
        return hold.id


def released(runtime: Runtime, hold_id: str, reason: str) -> None:
    with runtime.sessions() as session:
        hold = release_hold(session, actor=OFFICER, hold_id=hold_id, reason=reason)
        session.commit()
        record_hold(session, runtime.store, hold)


def erased(runtime: Runtime, customer_ref: str) -> None:
    with runtime.sessions() as session:
        received = datetime.now(UTC) - timedelta(hours=1)
        request = create_request(
            session, actor=OFFICER, customer_ref=customer_ref, kind="erasure", received_at=received
        )
        done = fulfil_request(
            session, runtime.store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE
        )
        session.commit()
        after_commit(session, runtime.store, done)
        session.commit()


def ledger_bytes(store: ObjectStore) -> bytes:
    body = b""
    for info in store.list(HOLDS):
        with store.get(info.key) as entry:
            body += entry.read()
    return body


def test_holds_placed_and_released_after_the_backup_are_replayed_by_the_restore(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sqlite_source
    with source.sessions() as session:
        disputed, settled, customer_wide = (
            ingest_file(session, source.store, source.envelope, source.settings, customer_ref=ref).recording
            for ref in ("CRM-DISPUTED-1", "CRM-SETTLED-2", "CRM-WIDE-3")
        )
        session.commit()
    old_hold = placed(source, "Complaint 3 under review", recording_id=settled.id)
    back_up(source, tmp_path / "backup", monkeypatch)

    # After the backup: a new dispute; the old one closed and that customer erased; a customer hold placed and
    # released; a hold on a call ingested after the backup (which the restored database will not hold).
    new_hold = placed(source, DISPUTE, recording_id=disputed.id)
    released(source, old_hold, "Complaint 3 closed")
    erased(source, "CRM-SETTLED-2")
    passing_hold = placed(source, "Audit of 2026 tariffs", customer_ref="CRM-WIDE-3")
    released(source, passing_hold, "Audit done")
    with source.sessions() as session:
        late = ingest_file(session, source.store, source.envelope, source.settings, customer_ref="CRM-LATE-4")
        session.commit()
    placed(source, "Complaint 11", recording_id=late.recording.id)
    # The reasons are staff text naming the dispute: sealed in the store, never in the clear.
    assert b"meter reading" not in ledger_bytes(source.store) and b"Complaint" not in ledger_bytes(source.store)

    into = SqliteTarget(source, tmp_path)
    restored = into.callvault("restore", str(tmp_path / "backup"))

    assert restored.exit_code == 0, restored.output
    assert "deletions replayed=1 held=0 objections replayed=0 holds placed=2 released=1" in restored.output
    assert "1 legal hold(s) on calls or customers this database does not hold" in restored.output
    target = into.runtime()
    with target.sessions() as session:
        hold = session.get_one(LegalHold, new_hold)
        assert (hold.active, hold.reason, hold.recording_id) == (True, DISPUTE, disputed.id)
        call = session.get_one(Recording, disputed.id)
        assert call.legal_hold and call.status != RecordingStatus.DELETED
        with pytest.raises(Conflict):  # the sweep and an erasure are refused, as before the loss
            delete_recording(
                session,
                target.store,
                recording_id=disputed.id,
                reason="retention",
                actor=OFFICER,
                now=datetime.now(UTC),
            )
        session.rollback()
        old = session.get_one(LegalHold, old_hold)
        assert (old.active, old.release_reason) == (False, "Complaint 3 closed")
        assert session.get_one(Recording, settled.id).status == RecordingStatus.DELETED
        passing = session.get_one(LegalHold, passing_hold)
        assert (passing.active, passing.reason, passing.release_reason) == (
            False,
            "Audit of 2026 tariffs",
            "Audit done",
        )
        assert not session.get_one(Recording, customer_wide.id).legal_hold
        replays = list(
            session.execute(
                select(AuditEvent.action, AuditEvent.object_id)
                .where(AuditEvent.action.in_(["legal_hold.replayed", "legal_hold.release_replayed"]))
                .order_by(AuditEvent.seq)
            )
        )
        assert sorted(replays) == sorted(
            [
                ("legal_hold.release_replayed", old_hold),
                ("legal_hold.replayed", new_hold),
                ("legal_hold.replayed", passing_hold),
            ]
        )
        _checked, broken = audit.verify_chain(session, keys=audit.session_keys(session))
        assert broken is None

    # Replayed again (`callvault replay-ledger`), nothing changes twice.
    again = into.callvault("replay-ledger")
    assert again.exit_code == 0, again.output
    assert again.output.strip().endswith(
        "deletions replayed=0 held=0 objections replayed=0 holds placed=0 released=0 restrictions replayed=0 lifted=0"
    )
    target.engine.dispose()


def entries_of(store: ObjectStore, hold_id: str) -> list[dict[str, Any]]:
    return [entry for entry in read_entries(store, HOLDS) if entry["hold_id"] == hold_id]


def test_the_api_and_the_page_write_each_placement_and_release_to_the_ledger(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    """Into the app's store, which other tests share: each hold's own entries are looked at."""
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    call = aged_call(session, store, envelope, started_at=LONG_AGO, purposes=[])
    on_call = client.post(
        "/api/v1/legal-holds", json={"recording_id": call.id, "reason": "Dispute 42"}, headers=officer
    )
    assert on_call.status_code == 201
    assert entries_of(store, on_call.json["id"])[-1]["released_at"] is None
    # The same hold sent again is no new placement: nothing more is written.
    again = client.post("/api/v1/legal-holds", json={"recording_id": call.id, "reason": "Dispute 42"}, headers=officer)
    assert again.status_code == 200 and len(entries_of(store, on_call.json["id"])) == 1
    release = client.post(
        f"/api/v1/legal-holds/{on_call.json['id']}/release", json={"reason": "settled"}, headers=officer
    )
    assert release.status_code == 200
    assert entries_of(store, on_call.json["id"])[-1]["released_at"] is not None

    login(client, make_user(session, role=Role.COMPLIANCE))
    form = {"target": "recording", "value": call.id, "reason": "Court case 7"}
    assert post_form(client, "/compliance/holds", form, token_from="/compliance/holds").status_code == 302
    [from_page] = session.scalars(select(LegalHold).where(LegalHold.reason == "Court case 7"))
    [entry] = entries_of(store, from_page.id)
    assert entry["recording_id"] == call.id and entry["released_at"] is None
    released_page = post_form(
        client,
        f"/compliance/holds/{from_page.id}/release",
        {"reason": "closed"},
        token_from="/compliance/holds",
    )
    assert released_page.status_code == 302
    assert entries_of(store, from_page.id)[-1]["released_at"] is not None
