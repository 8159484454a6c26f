"""When calls are deleted (retention, erasure), what evaluators wrote about them goes and their scores stay (for the
trends): the evaluations' comments, the agent's answers and resolution notes, the comments kept in earlier versions,
and the calibration sessions' titles and comments.

Each function works on the rows by statements and reads them afresh: an evaluation this session loaded before
another request wrote its text would look blank already, and an assignment of "" to it would write nothing. Each
returns one recording id per row changed, for the deletion's counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from recordings_service.models import (
    CalibrationAnswer,
    CalibrationParticipant,
    CalibrationSession,
    Evaluation,
    EvaluationAnswer,
    EvaluationVersion,
)

UNSYNCHRONISED = {"synchronize_session": False}


def blank_evaluation_text(session: Session, recording_ids: Sequence[str]) -> list[str]:
    """Blank every text of these calls' evaluations, their answers and their earlier versions (the agent's answer to
    one and its resolution note included)."""
    owners = dict(
        session.execute(
            select(Evaluation.id, Evaluation.recording_id).where(Evaluation.recording_id.in_(recording_ids))
        ).all()
    )
    if not owners:
        return []
    changed = list(
        session.scalars(
            update(Evaluation)
            .where(Evaluation.id.in_(list(owners)), Evaluation.comment != "")
            .values(comment="")
            .returning(Evaluation.recording_id),
            execution_options=UNSYNCHRONISED,
        )
    )
    answers = session.scalars(
        update(EvaluationAnswer)
        .where(EvaluationAnswer.evaluation_id.in_(list(owners)), EvaluationAnswer.comment != "")
        .values(comment="")
        .returning(EvaluationAnswer.evaluation_id),
        execution_options=UNSYNCHRONISED,
    )
    changed += [owners[evaluation_id] for evaluation_id in answers]
    changed += session.scalars(
        update(Evaluation)
        .where(
            Evaluation.id.in_(list(owners)),
            or_(Evaluation.agent_comment != "", Evaluation.resolution_note != ""),
        )
        .values(agent_comment="", resolution_note="")
        .returning(Evaluation.recording_id),
        execution_options={"synchronize_session": "fetch"},
    )
    versions = (
        select(EvaluationVersion, Evaluation.recording_id)
        .join(Evaluation)
        .where(Evaluation.id.in_(list(owners)))
        .execution_options(populate_existing=True)
    )
    for version, recording_id in session.execute(versions):
        agent = version.agent_answer
        agent_text = agent is not None and bool(agent.get("comment") or agent.get("resolution_note"))
        if version.comment or agent_text or any(answer.get("comment") for answer in version.answers):
            version.comment = ""
            version.answers = [{**answer, "comment": ""} for answer in version.answers]
            if agent is not None:
                version.agent_answer = {**agent, "comment": "", "resolution_note": ""}
            changed.append(recording_id)
    session.flush()
    return changed


def blank_calibration_text(session: Session, recording_ids: Sequence[str]) -> list[str]:
    """Blank the titles of these calls' calibration sessions and what their participants wrote; the scores stay."""
    calls = dict(
        session.execute(
            select(CalibrationSession.id, CalibrationSession.recording_id).where(
                CalibrationSession.recording_id.in_(recording_ids)
            )
        ).all()
    )
    if not calls:
        return []
    changed = list(
        session.scalars(
            update(CalibrationSession)
            .where(CalibrationSession.id.in_(list(calls)), CalibrationSession.title != "")
            .values(title="")
            .returning(CalibrationSession.recording_id),
            execution_options=UNSYNCHRONISED,
        )
    )
    participants = dict(
        session.execute(
            select(CalibrationParticipant.id, CalibrationParticipant.session_id).where(
                CalibrationParticipant.session_id.in_(list(calls))
            )
        ).all()
    )
    commented = session.scalars(
        update(CalibrationParticipant)
        .where(CalibrationParticipant.id.in_(list(participants)), CalibrationParticipant.comment != "")
        .values(comment="")
        .returning(CalibrationParticipant.session_id),
        execution_options=UNSYNCHRONISED,
    )
    changed += [calls[session_id] for session_id in commented]
    answered = session.scalars(
        update(CalibrationAnswer)
        .where(CalibrationAnswer.participant_id.in_(list(participants)), CalibrationAnswer.comment != "")
        .values(comment="")
        .returning(CalibrationAnswer.participant_id),
        execution_options=UNSYNCHRONISED,
    )
    changed += [calls[participants[participant_id]] for participant_id in answered]
    return changed
