"""Pulling sample calls for trainers: criteria, exclusions counted by reason, and a reproducible draw.

Candidates are the calls matching the criteria that the trainer may see (`recordings.visible_to`). Each is
excluded for the first reason that applies (`eligibility`), counted per reason, or eligible. The sample is
drawn from the eligible calls in id order with the seed: at random, or stratified (an even spread across
queues, agents or score bands: strata take turns, one call each, in an order drawn with the same seed, so
a stratum with too few calls leaves its turns to the others). The same criteria, seed and data select the
same calls.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.call_selection import CallSelection
from recordings_service.calls.transcript_matches import checked_words, said_in_transcripts
from recordings_service.evaluations.lookup import latest_score
from recordings_service.models import Customer, Evaluation, Nomination, Recording
from recordings_service.models.evaluation import EvaluationState
from recordings_service.models.recording import name_key
from recordings_service.models.training import NominationKind
from recordings_service.ranges import upper_end
from recordings_service.recordings import UNPLAYABLE, visible_to
from recordings_service.storage.encryption import Envelope
from recordings_service.training.agents import agent_names
from recordings_service.training.eligibility import flag_columns, reason_for
from recordings_service.training_rules import TrainingRules, usable_for_training

MAX_SAMPLE = 500
MAX_SEED = 2**63 - 1
# Score bands for stratifying: (label, lowest score in the band); a call's latest evaluation decides.
SCORE_BANDS = (("80-100", 80.0), ("60-80", 60.0), ("0-60", 0.0))
NOT_SCORED = "not_scored"
# An agent as trainers are shown them (a pseudonym, or a ref where agents are shown): a blank or overlong one, which
# no call is stored with, would select nothing (as a queue would: `CallSelection`).
AgentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SampleMode(StrEnum):
    RANDOM = "random"
    STRATIFIED = "stratified"


class Stratum(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    SCORE_BAND = "score_band"


class SampleCriteria(CallSelection):
    """What to sample: the calls (`CallSelection`; `timezone` is UTC unless named, what the API's days always
    were), narrowed by scores, words, agents and nominations. Scores are the latest evaluation's total in percent."""

    score_min: float | None = Field(default=None, ge=0, le=100)
    score_max: float | None = Field(default=None, ge=0, le=100)
    evaluated: bool | None = Field(default=None, description="true: scored calls only; false: unscored only")
    words: str | None = Field(default=None, max_length=200, description="words said (in the redacted transcript)")
    agents: list[AgentName] | None = Field(default=None, max_length=200, description="only these agents, as shown")
    exclude_agents: list[AgentName] | None = Field(default=None, max_length=200, description="not these agents")
    nominated: NominationKind | Literal["any"] | None = Field(
        default=None, description="only calls nominated by QA: good_example, needs_improvement or any"
    )
    size: int = Field(ge=1, le=MAX_SAMPLE)
    mode: SampleMode = SampleMode.RANDOM
    stratify_by: Stratum | None = Field(
        default=None, validate_default=True, description="queue, agent or score_band (stratified)"
    )
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="the same seed draws the same sample")

    @field_validator("score_max")
    @classmethod
    def _not_below_its_lower_end(cls, value: Any, info: ValidationInfo) -> Any:
        return upper_end(value, info)

    @field_validator("stratify_by")
    @classmethod
    def _named_when_stratified(cls, value: Stratum | None, info: ValidationInfo) -> Stratum | None:
        if value is None and info.data.get("mode") is SampleMode.STRATIFIED:
            raise PydanticCustomError("missing", "a stratified sample needs stratify_by")
        return value


@dataclass(frozen=True)
class SampledCall:
    recording_id: str
    started_at: datetime
    duration_s: float
    direction: str
    queue: str
    language: str
    agent: str  # a pseudonym unless agents are shown
    score: float | None
    evaluated: bool
    stratum: str | None
    nominations: dict[str, int]  # by kind


@dataclass(frozen=True)
class Sample:
    seed: int
    mode: SampleMode
    stratify_by: Stratum | None
    matched: int  # calls matching the criteria
    eligible: int
    excluded: dict[str, int]  # reason -> count (none with words: see _query)
    calls: list[SampledCall]  # in call (id) order
    strata: dict[str, int]  # calls drawn per stratum (stratified)
    rules: TrainingRules


@dataclass(frozen=True)
class _Candidate:
    row: Any
    agent: str
    score: float | None
    queue: str  # the queue's stratum: the spelling of its key (`name_key`) the first matching call has


def pull_sample(
    session: Session, envelope: Envelope, *, actor: Actor, criteria: SampleCriteria, rules: TrainingRules
) -> Sample:
    """Draw a sample of the calls `actor` may see that match `criteria`; audited as `training.sampled`."""
    seed = criteria.seed if criteria.seed is not None else secrets.randbelow(MAX_SEED)
    names = agent_names(session, envelope, show_agents=rules.show_agents)
    excluded: Counter[str] = Counter()
    eligible: list[_Candidate] = []
    matched = 0
    # One queue is one stratum in any letter case and Unicode form, as it is one queue to the criteria: "SÄHKÖ" and
    # "Sähkö" typed decomposed were two strata, the queue taking two turns of the spread.
    queues: dict[str, str] = {}
    for row in session.execute(_query(session, actor=actor, criteria=criteria, rules=rules)):
        queue = queues.setdefault(name_key(row.queue), row.queue)
        candidate = _Candidate(row=row, agent=names(row.agent_ref), score=row.score, queue=queue)
        if criteria.agents and candidate.agent not in criteria.agents:
            continue
        if criteria.exclude_agents and candidate.agent in criteria.exclude_agents:
            continue
        matched += 1
        reason = reason_for(row, rules=rules)
        if reason is None:
            eligible.append(candidate)
        else:
            excluded[reason.value] += 1
    rng = random.Random(seed)  # noqa: S311 — reproducible sampling, not secrecy
    stratum_of = _stratum_function(criteria.stratify_by)
    if criteria.mode is SampleMode.STRATIFIED:
        chosen = _stratified(eligible, key=stratum_of, size=criteria.size, rng=rng)
    else:
        chosen = rng.sample(eligible, min(criteria.size, len(eligible)))
    chosen.sort(key=lambda candidate: candidate.row.id)
    nominations = _nominations(session, [candidate.row.id for candidate in chosen])
    calls = [
        SampledCall(
            recording_id=candidate.row.id,
            started_at=candidate.row.started_at,
            duration_s=candidate.row.duration_s,
            direction=candidate.row.direction,
            queue=candidate.row.queue,
            language=candidate.row.language,
            agent=candidate.agent,
            score=candidate.score,
            evaluated=bool(candidate.row.evaluated),
            stratum=stratum_of(candidate) if criteria.stratify_by is not None else None,
            nominations=nominations.get(candidate.row.id, {}),
        )
        for candidate in chosen
    ]
    strata = dict(Counter(call.stratum for call in calls if call.stratum is not None))
    record_event(
        session,
        actor=actor,
        action="training.sampled",
        object_type="training_sample",
        # Counts and settings only: the words searched for may themselves be personal data.
        details={
            "mode": criteria.mode.value,
            "stratify_by": criteria.stratify_by.value if criteria.stratify_by else None,
            "seed": seed,
            "size": criteria.size,
            "words_chars": len(criteria.words or ""),
            "matched": matched,
            "eligible": len(eligible),
            "chosen": len(calls),
            **{f"excluded_{reason}": count for reason, count in sorted(excluded.items())},
        },
    )
    return Sample(
        seed=seed,
        mode=criteria.mode,
        stratify_by=criteria.stratify_by,
        matched=matched,
        eligible=len(eligible),
        excluded=dict(excluded),
        calls=calls,
        strata=strata,
        rules=rules,
    )


def score_band(score: float | None) -> str:
    if score is None:
        return NOT_SCORED
    return next(label for label, lowest in SCORE_BANDS if score >= lowest)


def _query(session: Session, *, actor: Actor, criteria: SampleCriteria, rules: TrainingRules) -> Select[Any]:
    score = latest_score()
    evaluated = exists().where(Evaluation.recording_id == Recording.id, Evaluation.state == EvaluationState.SUBMITTED)
    query = (
        select(
            Recording.id,
            Recording.started_at,
            Recording.duration_s,
            Recording.direction,
            Recording.queue,
            Recording.language,
            Recording.agent_ref,
            Recording.purposes,
            score.label("score"),
            evaluated.label("evaluated"),
            *flag_columns(),
        )
        .outerjoin(Customer, Customer.id == Recording.customer_id)
        .where(visible_to(actor), Recording.status.not_in(UNPLAYABLE))
        .order_by(Recording.id)
    )
    query = criteria.applied_to(query)
    if criteria.evaluated is not None:
        query = query.where(evaluated if criteria.evaluated else ~evaluated)
    if criteria.score_min is not None:
        query = query.where(score >= criteria.score_min)
    if criteria.score_max is not None:
        query = query.where(score <= criteria.score_max)
    if criteria.nominated is not None:
        nominated = exists().where(Nomination.recording_id == Recording.id)
        if criteria.nominated != "any":
            nominated = nominated.where(Nomination.kind == criteria.nominated)
        query = query.where(nominated)
    words = checked_words(criteria.words or "", field="words")
    if words:
        language = criteria.languages[0] if criteria.languages and len(criteria.languages) == 1 else None
        # Words are looked for in the calls trainers may use only: counting the excluded calls that say them would
        # tell what those calls say (a name, a street), which is not the trainer's to learn.
        query = query.where(usable_for_training(rules), said_in_transcripts(session, words, language=language))
    return query


def _stratum_function(stratify_by: Stratum | None) -> Callable[[_Candidate], str]:
    if stratify_by is Stratum.AGENT:
        return lambda candidate: candidate.agent
    if stratify_by is Stratum.SCORE_BAND:
        return lambda candidate: score_band(candidate.score)
    return lambda candidate: candidate.queue


def _stratified(
    eligible: list[_Candidate], *, key: Callable[[_Candidate], str], size: int, rng: random.Random
) -> list[_Candidate]:
    """Strata take turns, one call each, until `size` calls are drawn or every stratum is used up."""
    strata: dict[str, list[_Candidate]] = {}
    for candidate in eligible:
        strata.setdefault(key(candidate), []).append(candidate)
    order = sorted(strata)
    rng.shuffle(order)  # which strata get the turns left over when `size` does not divide evenly
    for name in sorted(strata):
        rng.shuffle(strata[name])
    queues = [strata[name] for name in order]
    chosen: list[_Candidate] = []
    for turn in range(max((len(queue) for queue in queues), default=0)):
        for queue in queues:
            if len(chosen) == size:
                return chosen
            if turn < len(queue):
                chosen.append(queue[turn])
    return chosen


def _nominations(session: Session, recording_ids: list[str]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for offset in range(0, len(recording_ids), 500):
        rows = session.execute(
            select(Nomination.recording_id, Nomination.kind, func.count())
            .where(Nomination.recording_id.in_(recording_ids[offset : offset + 500]))
            .group_by(Nomination.recording_id, Nomination.kind)
        )
        for recording_id, kind, count in rows:
            found.setdefault(recording_id, {})[kind] = count
    return found
