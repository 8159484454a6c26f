"""The last two participants of a calibration session submitting at the same moment: each read the other as not
yet submitted, so neither revealed the scores, and the session said it still waited for scorers who had all
scored (PostgreSQL; SQLite has one writer at a time)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select

from recordings_service.audit import Actor
from recordings_service.evaluations import calibration
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import (
    AuditEvent,
    CalibrationAnswer,
    CalibrationParticipant,
    CalibrationSession,
    EvaluationForm,
    FormQuestion,
    FormSection,
    User,
)
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import (
    LIVE_SOURCE,
    committed_runtime,  # noqa: F401  (a fixture)
    make_recording,
)


@dataclass(frozen=True)
class Started:
    calibration_id: str
    anna: Actor
    bert: Actor
    anna_answers: dict[str, Answer]
    bert_answers: dict[str, Answer]


@pytest.fixture
def live(committed_runtime: Runtime, db_kind: str) -> Iterator[Runtime]:  # noqa: F811  (the fixture imported above)
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second submission waits for the first to commit")
    yield committed_runtime


@pytest.fixture
def started(live: Runtime) -> Iterator[Started]:
    suffix = secrets.token_hex(4)
    with live.sessions() as setup:
        organiser, anna, bert = (make_user(setup, username=f"{name}-{suffix}") for name in ("olga", "anna", "bert"))
        form = published_form(setup, actor_of(organiser))
        call = make_recording(setup, live.store, live.envelope, audio=b"RIFF", source=LIVE_SOURCE + "-calibration")
        created = calibration.create_calibration(
            setup, actor=actor_of(organiser), recording_id=call.id, form_id=form.id, participant_ids=[anna.id, bert.id]
        )
        made = Started(
            calibration_id=created.id,
            anna=actor_of(anna),
            bert=actor_of(bert),
            anna_answers=answers(form, ["yes", "5", "yes"]),
            bert_answers=answers(form, ["no", "3", "yes"]),
        )
        user_ids, form_id = [organiser.id, anna.id, bert.id], form.id
        setup.commit()
    yield made
    with live.sessions() as cleanup:
        participants = select(CalibrationParticipant.id).where(CalibrationParticipant.session_id == made.calibration_id)
        cleanup.execute(delete(CalibrationAnswer).where(CalibrationAnswer.participant_id.in_(participants)))
        cleanup.execute(delete(CalibrationParticipant).where(CalibrationParticipant.session_id == made.calibration_id))
        cleanup.execute(delete(CalibrationSession).where(CalibrationSession.id == made.calibration_id))
        sections = select(FormSection.id).where(FormSection.form_id == form_id)
        cleanup.execute(delete(FormQuestion).where(FormQuestion.section_id.in_(sections)))
        cleanup.execute(delete(FormSection).where(FormSection.form_id == form_id))
        cleanup.execute(delete(EvaluationForm).where(EvaluationForm.id == form_id))
        cleanup.execute(delete(User).where(User.id.in_(user_ids)))
        cleanup.commit()


def test_the_last_two_submitting_at_once_reveal_the_scores_once(live: Runtime, started: Started) -> None:
    outcome: list[object] = []

    def bert_submits() -> None:
        with live.sessions() as session:
            try:
                calibration.submit_scores(
                    session, actor=started.bert, calibration_id=started.calibration_id, answers=started.bert_answers
                )
                session.commit()
                outcome.append("submitted")
            except Exception as exc:  # named by the assertion below
                outcome.append(exc)

    with live.sessions() as first:
        calibration.submit_scores(
            first, actor=started.anna, calibration_id=started.calibration_id, answers=started.anna_answers
        )
        racer = threading.Thread(target=bert_submits)
        racer.start()
        racer.join(timeout=1.0)  # it waits on anna's uncommitted submission
        first.commit()
    racer.join(timeout=30)

    assert outcome == ["submitted"]
    with live.sessions() as check:
        view = calibration.view_calibration(check, actor=started.anna, calibration_id=started.calibration_id)
        assert view.revealed and view.results is not None and view.results.submitted == 2
        revealed = select(AuditEvent).where(
            AuditEvent.action == "calibration.revealed", AuditEvent.object_id == view.recording.id
        )
        assert [event.details["reason"] for event in check.scalars(revealed)] == ["all_submitted"]
