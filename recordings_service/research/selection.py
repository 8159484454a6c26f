"""Which calls a study may receive: the criteria, every exclusion with its reason, and a reproducible sample.

Candidates are the calls matching the criteria that the creating compliance user may see
(`recordings.visible_to`). Each candidate is either excluded for the first reason that applies (counted per
reason) or eligible; the sample is drawn from the eligible ids in id order with the batch's seed, so the
same criteria, seed and data select the same calls.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calendar_days import DEFAULT_ZONE, day_start
from recordings_service.call_selection import CallSelection
from recordings_service.iso_input import Day
from recordings_service.models import BatchItem, Customer, Recording, ResearchBatch, Transcript
from recordings_service.models.account import Role
from recordings_service.models.privacy import customer_asked_for_erasure
from recordings_service.models.recording import Purpose
from recordings_service.recordings import UNPLAYABLE, visible_to

MAX_SAMPLE = 100_000
# The builder, which checks a package's calls again (as a download does), sees what compliance sees.
BUILD_ACTOR = Actor(id=None, name="research-build", role=Role.COMPLIANCE)
LAST_WHOLE_DAY = date.max - timedelta(days=1)


class Exclusion(StrEnum):
    """Why an otherwise matching call is not sent, in the order the reasons are checked."""

    OBJECTS_TO_RESEARCH = "objects_to_research"
    RESTRICTED = "restricted"
    NO_QUALITY_STUDY_PURPOSE = "no_quality_study_purpose"
    ERASURE_REQUESTED = "erasure_requested"
    DELETED_BEFORE_STUDY_END = "retained_until_before_study_end"
    NO_NOTICE = "notice_not_given"
    CARD_DATA = "card_data"
    NOT_TRANSCRIBED = "not_transcribed"  # transcripts always go out redacted, so the redacted twin is needed


class BatchCriteria(CallSelection):
    """A batch's selection criteria: the calls (`CallSelection`, its dates required) and the sample drawn from them.
    `timezone` is UTC unless named: what the API's days always were."""

    # Required here (optional in `CallSelection`); declared again, they keep their place before the other fields.
    from_: Day = Field(alias="from")
    to: Day
    sample_size: int = Field(ge=1, le=MAX_SAMPLE)
    seed: int = Field(ge=0, le=2**63 - 1)


@dataclass(frozen=True)
class Candidate:
    id: str
    customer_id: str | None
    agent_ref: str
    reason: Exclusion | None


@dataclass(frozen=True)
class Selection:
    chosen: list[Candidate]  # in call order
    excluded: dict[str, int]
    eligible: int


def select_calls(
    session: Session, *, actor: Actor, criteria: BatchCriteria, study_end: date, redacted_audio: bool
) -> Selection:
    candidates = candidates_matching(
        session, actor=actor, criteria=criteria, study_end=study_end, redacted_audio=redacted_audio
    )
    excluded = Counter(candidate.reason.value for candidate in candidates if candidate.reason is not None)
    eligible = [candidate for candidate in candidates if candidate.reason is None]  # id order
    size = min(criteria.sample_size, len(eligible))
    chosen = random.Random(criteria.seed).sample(eligible, size)  # noqa: S311 — reproducible sampling, not secrecy
    order = {candidate.id: index for index, candidate in enumerate(candidates)}
    return Selection(chosen=sorted(chosen, key=lambda c: order[c.id]), excluded=dict(excluded), eligible=len(eligible))


def candidates_matching(
    session: Session, *, actor: Actor, criteria: BatchCriteria, study_end: date, redacted_audio: bool
) -> list[Candidate]:
    """The calls matching `criteria`, in id order, each with the first exclusion that applies (or None)."""
    query = criteria.applied_to(_candidate_query(actor))
    ends = study_ends_at(study_end, criteria.timezone)
    return _classified(session, query, study_ends=ends, redacted_audio=redacted_audio)


def candidates_among(
    session: Session, *, actor: Actor, recording_ids: list[str], study_ends: datetime, redacted_audio: bool
) -> list[Candidate]:
    """The calls of `recording_ids` (a build checking its items again) that are still candidates, in id order,
    each with the first exclusion that applies (or None)."""
    query = _candidate_query(actor).where(Recording.id.in_(recording_ids))
    return _classified(session, query, study_ends=study_ends, redacted_audio=redacted_audio)


def study_ends_at(study_end: date, timezone: str) -> datetime:
    """When the study's last day ends: the next day's start in `timezone`, the zone whose days the batch's call
    dates are (its criteria's: the organisation's on the pages, UTC unless named in the API). Counted in UTC, a
    batch selected on the pages ended its study two or three hours after the Finnish day did."""
    if study_end >= LAST_WHOLE_DAY:  # no next day that a datetime holds in every zone (refused as too far anyway)
        return datetime.max.replace(tzinfo=UTC)
    return day_start(study_end + timedelta(days=1), timezone) or datetime.min.replace(tzinfo=UTC)


def criteria_zone(criteria: Mapping[str, Any]) -> str:
    """The time zone of a stored batch's criteria; UTC for one stored before criteria named a zone."""
    zone: str = criteria.get("timezone", DEFAULT_ZONE)
    return zone


@dataclass(frozen=True)
class ExcludedItem:
    """An item still in a built package that would not go out now, and why: an `Exclusion`, or `NO_LONGER_STORED`."""

    item: BatchItem
    reason: str


NO_LONGER_STORED = "deleted"  # the call is deleted or its object missing: not a candidate at all


def excluded_since_built(session: Session, batch: ResearchBatch) -> list[ExcludedItem]:
    """The batch's items still in its package that would not go out now, in package order, by every reason a
    selection checks (`_reason`), as a rebuild would withdraw them: their customer objected or asked for erasure, the
    call was restricted or deleted, a rectification took back its notice or its quality-study purpose, a retention
    change ends its keeping before the study does, card data was found in it where the package's audio is the
    original.

    Before, this was one SQL condition of the first four reasons only: a package built before a rectification or a
    retention change was still handed over with the call in it."""
    in_package = (BatchItem.batch_id == batch.id, BatchItem.withdrawn_reason.is_(None))
    items = session.scalars(select(BatchItem).where(*in_package).order_by(BatchItem.position))
    query = _candidate_query(BUILD_ACTOR).join(BatchItem, BatchItem.recording_id == Recording.id).where(*in_package)
    study_ends = study_ends_at(batch.study_end, criteria_zone(batch.criteria))
    found = _classified(session, query, study_ends=study_ends, redacted_audio=batch.audio == "redacted")
    reasons: dict[str, str | None] = {candidate.id: candidate.reason for candidate in found}
    excluded = []
    for item in items:
        reason = reasons.get(item.recording_id, NO_LONGER_STORED)  # no longer a candidate at all
        if reason is not None:
            excluded.append(ExcludedItem(item, str(reason)))
    return excluded


def items_excluded_since_built(session: Session, batch: ResearchBatch) -> int:
    """How many of the batch's items still in its package would not go out now (`excluded_since_built`)."""
    return len(excluded_since_built(session, batch))


def _candidate_query(actor: Actor) -> Select[Recording, bool, bool, bool]:
    twin = exists().where(Transcript.recording_id == Recording.id, Transcript.has_redacted_twin)
    return (
        select(Recording, Customer.objects_to_research, customer_asked_for_erasure(), twin)
        .outerjoin(Customer, Customer.id == Recording.customer_id)
        .where(visible_to(actor), Recording.status.not_in(UNPLAYABLE))
        .order_by(Recording.id)
    )


def _classified(
    session: Session, query: Select[Recording, bool, bool, bool], *, study_ends: datetime, redacted_audio: bool
) -> list[Candidate]:
    found = []
    for recording, objects, erasure, transcribed in session.execute(query):
        reason = _reason(
            recording,
            objects_to_research=bool(objects),
            erasure_requested=bool(erasure),
            transcribed=bool(transcribed),
            study_ends=study_ends,
            redacted_audio=redacted_audio,
        )
        found.append(Candidate(recording.id, recording.customer_id, recording.agent_ref, reason))
    return found


def _reason(
    recording: Recording,
    *,
    objects_to_research: bool,
    erasure_requested: bool,
    transcribed: bool,
    study_ends: datetime,
    redacted_audio: bool,
) -> Exclusion | None:
    checks = (
        (objects_to_research, Exclusion.OBJECTS_TO_RESEARCH),
        (recording.restricted, Exclusion.RESTRICTED),
        (Purpose.QUALITY_STUDY not in recording.purposes, Exclusion.NO_QUALITY_STUDY_PURPOSE),
        (erasure_requested, Exclusion.ERASURE_REQUESTED),
        (
            recording.retain_until is not None and recording.retain_until < study_ends,
            Exclusion.DELETED_BEFORE_STUDY_END,
        ),
        (not recording.notice_given, Exclusion.NO_NOTICE),
        (recording.card_data and not redacted_audio, Exclusion.CARD_DATA),
        (not transcribed, Exclusion.NOT_TRANSCRIBED),
    )
    return next((reason for applies, reason in checks if applies), None)
