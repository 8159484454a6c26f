"""A comment, a score or a nomination written while the call is being deleted (retention sweep, erasure) came after
the deletion: the write checked the call was live before the deletion committed, then its insert waited for the
deletion's row lock and went through once it was released, so its text outlived the call. Writes about a call now
read it under a share lock (`still_live`): they wait for the deletion, then find the call deleted. PostgreSQL only:
SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.calls.review import add_annotation
from recordings_service.errors import NotFound
from recordings_service.evaluations import scoring
from recordings_service.evaluations.forms import get_form
from recordings_service.models import Annotation, Evaluation, Nomination
from recordings_service.models.account import Role
from recordings_service.models.training import NominationKind
from recordings_service.privacy.deletion import delete_recording
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training import nominations
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.training import training_call

pytestmark = pytest.mark.postgres
Write = Callable[[Session, Actor, str, str], Any]  # (session, actor, recording id, form id)


def comment(session: Session, actor: Actor, recording_id: str, form_id: str) -> Any:
    return add_annotation(session, actor=actor, recording_id=recording_id, at_s=1.0, text="said after deletion")


def score(session: Session, actor: Actor, recording_id: str, form_id: str) -> Any:
    form = get_form(session, form_id)
    given = answers(form, ["yes", "5", "no"])
    return scoring.evaluate_call(
        session, actor=actor, recording_id=recording_id, form_id=form_id, answers=given, comment="written after"
    )


def nominate(session: Session, actor: Actor, recording_id: str, form_id: str) -> Any:
    return nominations.nominate(
        session,
        actor=actor,
        recording_id=recording_id,
        kind=NominationKind.GOOD_EXAMPLE,
        note="written after",
        rules=TrainingRules(),
    )


WRITTEN = {
    comment: select(func.count()).select_from(Annotation),
    score: select(func.count()).select_from(Evaluation),
    nominate: select(func.count()).select_from(Nomination),
}


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_race_") as engine:
        yield engine


@pytest.mark.parametrize("write", [comment, score, nominate], ids=lambda write: write.__name__)
def test_a_write_that_meets_a_deletion_in_progress_waits_and_finds_the_call_deleted(
    engine: Engine, store: ObjectStore, envelope: Envelope, write: Write
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
        form_id = published_form(session, supervisor).id
        recording_id = training_call(session, store, envelope).id
        session.commit()

    deleting = sessions()
    delete_recording(deleting, store, recording_id=recording_id, reason="retention", actor=supervisor)
    outcome: dict[str, Any] = {}

    def writer() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                write(session, supervisor, recording_id, form_id)
                session.commit()
                outcome["result"] = "written"
            except NotFound:
                outcome["result"] = "refused"

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the write")
    deleting.commit()
    deleting.close()
    thread.join(timeout=20)

    assert outcome["result"] == "refused"
    with sessions() as session:
        assert session.scalar(WRITTEN[write]) == 0
