"""An evidence export racing the call's deletion (an erasure, the retention sweep): found by an exploratory pass.
The export read the call, sent the ZIP with its audio and recorded `recording.evidence_exported` after
`recording.deleted`: the trail said an erased call was exported after the erasure. The export now takes the call's
share lock before it records: it waits for a deletion in progress and finds the call gone."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.calls.evidence import export_evidence
from recordings_service.db import utcnow
from recordings_service.errors import NotFound
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.privacy.restriction import restrict_processing
from recordings_service.privacy.subjects import create_request
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.own_database import second_waits_for_first
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_recording


def exporting(
    store: ObjectStore, envelope: Envelope, actor: Actor, recording_id: str, package: io.BytesIO, work_dir: Path
) -> Callable[[Session], object]:
    """The export as the race's second transaction runs it."""

    def export(session: Session) -> object:
        return export_evidence(
            session,
            store,
            envelope,
            actor=actor,
            recording_id=recording_id,
            destination=package,
            work_dir=work_dir,
            zone=UTC,
        )

    return export


def test_an_export_meeting_a_deletion_in_progress_waits_and_finds_the_call_gone(
    own_engine: Engine, store: ObjectStore, envelope: Envelope, tmp_path: Path
) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        call = make_recording(setup, store, envelope)
        supervisor = actor_of(make_user(setup, role=Role.QA_SUPERVISOR))
        setup.commit()
    package = io.BytesIO()

    def delete(session: Session) -> object:
        return delete_recording(session, store, recording_id=call.id, reason="erasure", actor=OFFICER)

    export = exporting(store, envelope, supervisor, call.id, package, tmp_path)

    outcome = second_waits_for_first(sessions, delete, export)

    assert isinstance(outcome, NotFound), outcome
    assert package.getvalue() == b""
    with sessions() as session:
        trail = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == call.id)).all()
        assert "recording.deleted" in trail and "recording.evidence_exported" not in trail


def test_an_export_meeting_a_restriction_in_progress_waits_and_is_refused(
    own_engine: Engine, store: ObjectStore, envelope: Envelope, tmp_path: Path
) -> None:
    """Found by an exploratory pass: a QA supervisor's export of a two-hour call, begun before its customer's
    restriction committed, sent the whole call afterwards (the visibility was checked only before the decryption)."""
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        person = customer(setup)
        call = make_recording(setup, store, envelope, customer_id=person.id)
        supervisor = actor_of(make_user(setup, role=Role.QA_SUPERVISOR))
        request = create_request(
            setup, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
        )
        setup.commit()
    package = io.BytesIO()

    def restrict(session: Session) -> object:
        return restrict_processing(session, actor=OFFICER, request_id=request.id)

    export = exporting(store, envelope, supervisor, call.id, package, tmp_path)

    outcome = second_waits_for_first(sessions, restrict, export)

    assert isinstance(outcome, NotFound), outcome
    assert outcome.refusal is not None and outcome.refusal.details == {"reason": "not_visible"}
    assert package.getvalue() == b""
    with sessions() as session:
        trail = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == call.id)).all()
        assert "recording.evidence_exported" not in trail
