"""Found by review: deleting a call (retention, erasure) blanked what evaluators wrote about it in its evaluations,
but not in its calibration sessions: a session's title ("Virtanen's billing complaint"), each participant's comment
and each answer's comment stayed as written after the call was gone. They are blanked now, the scores kept, and
counted in the deletion's `calibration_comments`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import CalibrationAnswer, CalibrationParticipant, CalibrationSession
from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording


def test_deleting_a_call_blanks_its_calibration_sessions_text_and_keeps_their_scores(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    organiser, anna, bert = (make_user(session, role=Role.QA_SUPERVISOR) for _ in range(3))
    form = published_form(session, actor_of(organiser))
    call = make_recording(session, store, envelope, agent_ref="agent-calibrated", queue="billing")
    other = make_recording(session, store, envelope, agent_ref="agent-calibrated", queue="billing")
    sessions = [
        calibration.create_calibration(
            session,
            actor=actor_of(organiser),
            recording_id=recording.id,
            form_id=form.id,
            participant_ids=[anna.id, bert.id],
            title="Mr Virtanen's billing complaint",
        )
        for recording in (call, other)
    ]
    for calibrated in sessions:
        for person, said in ((anna, "he said 040 123 4567"), (bert, "")):
            given = {qid: Answer(a.value, comment=said) for qid, a in answers(form, ["yes", "5", "no"]).items()}
            calibration.submit_scores(
                session, actor=actor_of(person), calibration_id=calibrated.id, answers=given, comment=said
            )

    deletion = delete_recording(session, store, recording_id=call.id, reason="erasure", actor=actor_of(organiser))

    assert deletion is not None
    # The title, anna's comment and her three answers' comments: one count per row blanked.
    assert deletion.counts["calibration_comments"] == 5
    session.expire_all()
    deleted_session = session.get_one(CalibrationSession, sessions[0].id)
    assert deleted_session.title == ""
    participants = session.scalars(
        select(CalibrationParticipant).where(CalibrationParticipant.session_id == sessions[0].id)
    ).all()
    assert [participant.comment for participant in participants] == ["", ""]
    kept = session.scalars(
        select(CalibrationAnswer).where(CalibrationAnswer.participant_id.in_([p.id for p in participants]))
    ).all()
    assert kept and all(answer.comment == "" and answer.value for answer in kept)  # the scores stay
    # The other call's session is untouched.
    assert session.get_one(CalibrationSession, sessions[1].id).title == "Mr Virtanen's billing complaint"
