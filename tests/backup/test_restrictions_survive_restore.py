"""Restrictions of processing (GDPR Art. 18) put in force or lifted after a backup survive a restore of it, from the
store's ledger.

Before, a restriction carried out after the backup was lost with the database: the restored database let the
customer's calls be played, exported and selected for research and training again; and one lifted since kept the
calls restricted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import audit
from recordings_service.models import AuditEvent, Recording, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import restriction, subjects
from recordings_service.privacy.fulfilment import Answer, after_commit, fulfil_request
from recordings_service.privacy.ledger import read_entries
from recordings_service.privacy.restriction_ledger import RESTRICTIONS, record_restriction
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore
from tests.backup.conftest import SqliteTarget, back_up
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.recordings import ingest_file, make_token


def registered(runtime: Runtime, customer_ref: str) -> str:
    with runtime.sessions() as session:
        received = datetime.now(UTC) - timedelta(hours=1)
        request = subjects.create_request(
            session, actor=OFFICER, customer_ref=customer_ref, kind="restriction", received_at=received
        )
        session.commit()
        return request.id


def restricted(runtime: Runtime, request_id: str) -> None:
    """Carried out as the API and the page do: committed, then `after_commit`."""
    with runtime.sessions() as session:
        done = fulfil_request(
            session, runtime.store, actor=OFFICER, request_id=request_id, answer=Answer(), zone=ORG_ZONE
        )
        session.commit()
        after_commit(session, runtime.store, done)
        session.commit()


def lifted(runtime: Runtime, request_id: str) -> None:
    with runtime.sessions() as session:
        request = restriction.lift_restriction(session, actor=OFFICER, request_id=request_id)
        session.commit()
        record_restriction(runtime.store, request)


def test_restrictions_put_in_force_and_lifted_after_the_backup_are_replayed_by_the_restore(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sqlite_source
    refs = ("CRM-OPEN-1", "CRM-NEW-2", "CRM-LIFTED-3")
    with source.sessions() as session:
        calls = {
            ref: ingest_file(session, source.store, source.envelope, source.settings, customer_ref=ref).recording.id
            for ref in refs
        }
        session.commit()
    open_before = registered(source, "CRM-OPEN-1")  # registered before the backup, carried out after it
    in_force_before = registered(source, "CRM-LIFTED-3")
    restricted(source, in_force_before)
    back_up(source, tmp_path / "backup", monkeypatch)

    restricted(source, open_before)
    new_since = registered(source, "CRM-NEW-2")
    restricted(source, new_since)
    lifted(source, in_force_before)
    restricted(source, registered(source, "CRM-LATE-4"))  # a customer the restored database will not hold

    into = SqliteTarget(source, tmp_path)
    restored = into.callvault("restore", str(tmp_path / "backup"))

    assert restored.exit_code == 0, restored.output
    assert "holds placed=0 released=0 restrictions replayed=2 lifted=1" in restored.output
    assert "1 restriction(s) of customers this database does not hold" in restored.output
    target = into.runtime()
    with target.sessions() as session:
        flags = {ref: session.get_one(Recording, calls[ref]).restricted for ref in refs}
        assert flags == {"CRM-OPEN-1": True, "CRM-NEW-2": True, "CRM-LIFTED-3": False}
        for request_id in (open_before, new_since):
            request = session.get_one(SubjectRequest, request_id)
            assert request.completed_at is not None and request.lifted_at is None
        assert session.get_one(SubjectRequest, in_force_before).lifted_at is not None
        actions = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(["subject_request.restricted", "subject_request.lifted"]),
                AuditEvent.actor_name == "cli",
            )
        ).all()
        assert sorted(actions) == ["subject_request.lifted", "subject_request.restricted", "subject_request.restricted"]
        _checked, broken = audit.verify_chain(session, keys=audit.session_keys(session))
        assert broken is None

    again = into.callvault("replay-ledger")
    assert again.exit_code == 0, again.output
    assert again.output.strip().endswith("holds placed=0 released=0 restrictions replayed=0 lifted=0")
    target.engine.dispose()


def entries_of(store: ObjectStore, request_id: str) -> list[dict[str, Any]]:
    return [entry for entry in read_entries(store, RESTRICTIONS) if entry["request_id"] == request_id]


def test_the_api_and_the_page_write_each_restriction_and_lift_to_the_ledger(
    client: FlaskClient, session: Session, store: S3ObjectStore
) -> None:
    """Into the app's store, which other tests share: each request's own entries are looked at."""
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    requests = [
        subjects.create_request(
            session, actor=OFFICER, customer_ref=customer(session).customer_ref, kind="restriction", received_at=now
        ).id
        for now in (datetime.now(UTC), datetime.now(UTC))
    ]
    session.commit()
    on_api, on_page = requests
    assert client.post(f"/api/v1/subject-requests/{on_api}/fulfil", json={}, headers=officer).status_code == 200
    [entry] = entries_of(store, on_api)
    assert entry["completed_at"] is not None and entry["lifted_at"] is None
    assert client.post(f"/api/v1/subject-requests/{on_api}/lift", headers=officer).status_code == 200
    assert entries_of(store, on_api)[-1]["lifted_at"] is not None

    assert client.post(f"/api/v1/subject-requests/{on_page}/fulfil", json={}, headers=officer).status_code == 200
    officer_page = client.application.test_client()
    login(officer_page, make_user(session, role=Role.COMPLIANCE))
    path = f"/subjects/{on_page}"
    assert post_form(officer_page, f"{path}/lift", {}, token_from=path).status_code == 302
    assert entries_of(store, on_page)[-1]["lifted_at"] is not None
