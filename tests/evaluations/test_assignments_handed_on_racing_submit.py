"""A submit that waited for a lead's reassign of its evaluator's assignment reads, once it goes on, that the assignment
was handed on: what the saved message tells the evaluator (test_assignments_handed_on_submit.py) holds when the
reassign wins the race too, not only when it came first. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.evaluations import assignments, handover, scoring
from recordings_service.models import EvaluationForm, User
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.recordings import make_recording

pytestmark = pytest.mark.postgres


def test_a_submit_that_waited_for_the_reassign_reads_its_assignment_handed_on(
    store: ObjectStore, envelope: Envelope
) -> None:
    with private_engine("t_handed_on_race_") as engine:
        sessions: sessionmaker[Session] = sessionmaker(
            engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope}
        )
        with sessions() as session:
            lead, holder, stand_in = make_user(session), make_user(session), make_user(session)
            call = make_recording(session, store, envelope)
            form = published_form(session, actor_of(lead))
            [held] = assignments.assign_calls(
                session, actor=actor_of(lead), recording_ids=[call.id], assignee_id=holder.id, today=date.today()
            )
            session.commit()
        reassigning = sessions()
        assignments.reassign(
            reassigning, actor=actor_of(lead), assignment_id=held.id, assignee_id=stand_in.id, today=date.today()
        )
        outcome: dict[str, Any] = {}

        def submit() -> None:
            with sessions() as session:
                outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
                evaluator = actor_of(session.get_one(User, holder.id))
                scoring.evaluate_call(
                    session,
                    actor=evaluator,
                    recording_id=call.id,
                    form_id=form.id,
                    answers=answers(session.get_one(EvaluationForm, form.id), ["yes", "4", "yes"]),
                )
                taker = handover.handed_on_from(session, recording_id=call.id, evaluator_id=holder.id)
                outcome["taker"] = taker.id if taker else None
                session.commit()

        thread = threading.Thread(target=submit)
        thread.start()
        wait_until_blocked(engine, thread, outcome, what="the submit")
        reassigning.commit()
        reassigning.close()
        thread.join(timeout=20)

        assert outcome.get("taker") == stand_in.id
