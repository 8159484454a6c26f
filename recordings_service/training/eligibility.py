"""Which calls trainers may use, and why the others may not: the rules every sample, clip and set applies.

A call is used for training only while its purposes include `training`, its customer was told it is recorded
(`notice_given`: a voice recorded unawares is not played to staff as an example), its customer has not objected to
marketing (nor to research, where `CALLVAULT_TRAINING_HONOURS_RESEARCH_OBJECTION` says so), its customer has
not asked for erasure (a call an erasure kept for a legal duty serves that duty only), its retention has not
ended (a call kept past it by a legal hold serves the hold only), and it has a redacted transcript (trainers get
redacted material only, and redacted audio is cut along it). Restricted calls never reach a trainer at all
(`recordings.visible_to`); a trainer reaches the content of the others (their redacted audio and transcript, their
call page) only while trainers may use them (`require_trainer_may_use`). The same rules as one SQL clause, for
queries outside the library, are `training_rules.usable_for_training`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Refusal
from recordings_service.models import Customer, Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.models.privacy import customer_asked_for_erasure
from recordings_service.models.recording import Purpose, RecordingStatus
from recordings_service.recordings import get_playable_recording
from recordings_service.training_rules import TrainingRules


class Exclusion(StrEnum):
    """Why a matching call is not offered to trainers, in the order the reasons are checked."""

    NO_TRAINING_PURPOSE = "no_training_purpose"
    NO_NOTICE = "no_notice"  # the customer was not told the call was recorded (research leaves such calls out too)
    OBJECTS_TO_MARKETING = "objects_to_marketing"
    OBJECTS_TO_RESEARCH = "objects_to_research"  # only when the setting honours research objections
    ERASURE_REQUESTED = "erasure_requested"
    PAST_RETENTION = "past_retention"
    NOT_TRANSCRIBED = "not_transcribed"


class NotForTraining(Conflict):
    """The call may not be used for training (now): the reason is its `Exclusion`."""

    code = "not_for_training"

    def __init__(self, recording_id: str, reason: str, *, refusal: Refusal | None = None) -> None:
        super().__init__(f"recording {recording_id} may not be used for training ({reason})", refusal=refusal)
        self.reason = reason


def flag_columns() -> list[ColumnElement[Any]]:
    """The columns `reason_for` needs, selected beside a Recording outer-joined to its Customer."""
    twin = exists().where(Transcript.recording_id == Recording.id, Transcript.has_redacted_twin)
    return [
        Customer.objects_to_marketing.label("objects_to_marketing"),
        Customer.objects_to_research.label("objects_to_research"),
        Recording.notice_given.label("notice_given"),
        customer_asked_for_erasure().label("erasure_requested"),
        and_(Recording.retain_until.is_not(None), Recording.retain_until < utcnow()).label("past_retention"),
        twin.label("transcribed"),
    ]


def reason_for(row: Any, *, rules: TrainingRules) -> Exclusion | None:
    """The first exclusion that applies to a call, read as a row with `Recording.purposes` and `flag_columns()`
    (its customer outer-joined), or None when trainers may use it."""
    checks = (
        (Purpose.TRAINING not in row.purposes, Exclusion.NO_TRAINING_PURPOSE),
        (not row.notice_given, Exclusion.NO_NOTICE),
        (bool(row.objects_to_marketing), Exclusion.OBJECTS_TO_MARKETING),
        (rules.honours_research_objection and bool(row.objects_to_research), Exclusion.OBJECTS_TO_RESEARCH),
        (bool(row.erasure_requested), Exclusion.ERASURE_REQUESTED),
        (bool(row.past_retention), Exclusion.PAST_RETENTION),
        (not row.transcribed, Exclusion.NOT_TRANSCRIBED),
    )
    return next((reason for applies, reason in checks if applies), None)


def exclusions_of(
    session: Session, recording_ids: Iterable[str], *, rules: TrainingRules
) -> dict[str, Exclusion | None]:
    """Each recording's exclusion now (None: usable), by id; ids without a row are left out."""
    ids = sorted(set(recording_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Recording.id, Recording.purposes, *flag_columns())
        .outerjoin(Customer, Customer.id == Recording.customer_id)
        .where(Recording.id.in_(ids))
    )
    return {row.id: reason_for(row, rules=rules) for row in rows}


def require_for_training(session: Session, recording: Recording, *, rules: TrainingRules) -> None:
    """Refuse (409 `not_for_training`) a call trainers may not use."""
    reason = exclusions_of(session, [recording.id], rules=rules).get(recording.id)
    if reason is not None:
        raise NotForTraining(recording.id, reason.value)


def require_trainer_may_use(session: Session, *, actor: Actor, recording_id: str, rules: TrainingRules) -> None:
    """A trainer reaches a call's content through the general call routes (its page, redacted audio and transcript)
    only while trainers may use it: refused (409 `not_for_training`, audited `recording.access_denied`) otherwise.
    Before, a call taken out of training (its customer objected to marketing, asked for erasure) was still played
    and read whole there while the trainer's own view of it said it may not be played to them."""
    if actor.role != Role.TRAINER:
        return
    # A call hidden from them is not found, as for anyone (the refusal audited); a deleted one is answered by the
    # route as ever. One not transcribed yet has no redacted content to serve: its page says the redacted audio
    # waits for the transcription.
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    if recording.status == RecordingStatus.DELETED:
        return
    reason = exclusions_of(session, [recording_id], rules=rules)[recording_id]
    if reason not in (None, Exclusion.NOT_TRANSCRIBED):
        details = {"reason": "not_for_training", "exclusion": reason.value}
        refusal = Refusal(actor, "recording.access_denied", "recording", recording_id, details)
        raise NotForTraining(recording_id, reason.value, refusal=refusal)
