"""Retention policies: how long each purpose keeps a call, the `retain_until` they give, and changing them.

A recording is kept until the latest of its purposes' periods, counted from the call's start in the
organisation's calendar (CALLVAULT_TIMEZONE), and never past the global maximum. `verification` counts
only where an agreement was made; a call without one and without any other purpose falls under
`no_agreement`. The policy table is the one source of these periods: the migration seeds the defaults
and compliance changes them here (previewed, audited, and every affected recording recomputed).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Text, cast, func, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Invalid, NotFound, Unavailable
from recordings_service.models import Recording, RetentionPolicy, SubjectRequest
from recordings_service.models.privacy import PeriodUnit, RetentionRule, erasure_keeping
from recordings_service.models.recording import Purpose, RecordingStatus
from recordings_service.written_text import checked_lines

BATCH = 1000
MAX_BASIS = 2000  # as the API's reason fields: it is shown in the policy table and the Art. 30 CSV
MAX_KEEP = {PeriodUnit.DAYS: 36_525, PeriodUnit.MONTHS: 1_200}  # a century: anything longer is a typo
# Every start day of a leap cycle: a period is longer than another if it ends later for any of them.
_REFERENCE_STARTS = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n) for n in range(4 * 365 + 1)]


@dataclass(frozen=True)
class Period:
    keep: int
    unit: PeriodUnit

    def end(self, start: datetime) -> datetime:
        """`start` plus the period, in `start`'s own zone and on its clock (a day later is the same time of day, across
        a change to or from summer time too); a month later than 31 January is the last day of February."""
        if self.unit is PeriodUnit.DAYS:
            return start + timedelta(days=self.keep)
        months = start.month - 1 + self.keep
        year, month = start.year + months // 12, months % 12 + 1
        return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))

    def longer_than(self, other: Period) -> bool:
        return any(self.end(start) > other.end(start) for start in _REFERENCE_STARTS)

    def __str__(self) -> str:
        return f"{self.keep} {self.unit}"


Policies = Mapping[RetentionRule, Period]
# The columns a recomputation reads: id, started_at, purposes, agreement_made, retain_until, kept_by_erasure.
Candidate = tuple[str, datetime, list[str], bool | None, datetime | None, bool]


def load_policies(session: Session) -> dict[RetentionRule, Period]:
    """The current periods by rule; every rule must have its row (the migration seeds them)."""
    rows = {row.rule: Period(row.keep, PeriodUnit(row.unit)) for row in session.scalars(select(RetentionPolicy))}
    missing = [rule for rule in RetentionRule if rule not in rows]
    if missing:
        raise Unavailable(f"retention policies missing for {', '.join(missing)}: run `callvault db upgrade`")
    return {RetentionRule(rule): period for rule, period in rows.items()}


def applicable_rules(purposes: Iterable[str], *, agreement_made: bool | None) -> set[RetentionRule]:
    """The policy rules that keep a call with these purposes."""
    rules = set()
    for purpose in purposes:
        if purpose == Purpose.VERIFICATION:
            rules.add(RetentionRule.VERIFICATION if agreement_made else RetentionRule.NO_AGREEMENT)
        else:
            rules.add(RetentionRule(purpose))
    return rules or {RetentionRule.NO_AGREEMENT}


def compute_retain_until(
    policies: Policies, *, zone: tzinfo, started_at: datetime, purposes: Iterable[str], agreement_made: bool | None
) -> datetime:
    """The latest end of the applicable periods, capped at the global maximum, counted in `zone` (the organisation's
    calendar: six months from a call at 00:30 on 1 March in Helsinki end on 1 September there; counted in UTC, where
    that call was made on 28 February, they ended three days early)."""
    return _capped_end(policies, applicable_rules(purposes, agreement_made=agreement_made), zone, started_at)


def _capped_end(policies: Policies, rules: Iterable[RetentionRule], zone: tzinfo, started_at: datetime) -> datetime:
    """The latest end of `rules`' periods from `started_at`, no later than the global maximum's, counted in `zone`."""
    start = started_at.astimezone(zone)
    latest = max(policies[rule].end(start) for rule in rules)
    return min(latest, policies[RetentionRule.MAXIMUM].end(start)).astimezone(UTC)


def retain_until_for(
    session: Session, *, zone: tzinfo, started_at: datetime, purposes: Sequence[str], agreement_made: bool | None
) -> datetime:
    """`retain_until` of a new call under the current policies, counted in `zone`."""
    return compute_retain_until(
        load_policies(session), zone=zone, started_at=started_at, purposes=purposes, agreement_made=agreement_made
    )


def recompute_retain_until(session: Session, recording: Recording, *, zone: tzinfo, now: datetime) -> datetime:
    """`retain_until` of a stored call whose facts changed (a rectified `agreement_made`), under the current policies.

    A call its customer's erasure kept stays only while that legal duty lasts (`erasure.erase_customer`)."""
    policies = load_policies(session)
    facts = _facts(recording.started_at, recording.purposes, recording.agreement_made, zone=zone)
    value = compute_retain_until(policies, **facts)
    return _within_duty(policies, facts, value, now=now) if recording.erasure_kept else value


def agreement_evidence_until(
    recording: Recording, *, policies: Policies, zone: tzinfo, now: datetime
) -> datetime | None:
    """When the recording stops being evidence of an agreement made on it (its verification period, counted in
    `zone`), if later than `now`."""
    return _evidence_until(
        policies, _facts(recording.started_at, recording.purposes, recording.agreement_made, zone=zone), now=now
    )


def agreement_evidence_until_for(
    policies: Policies,
    *,
    zone: tzinfo,
    started_at: datetime,
    purposes: Sequence[str],
    agreement_made: bool | None,
    now: datetime,
) -> datetime | None:
    """`agreement_evidence_until` of a call not stored yet: when it stops being evidence of an agreement, if later
    than `now`."""
    return _evidence_until(policies, _facts(started_at, list(purposes), agreement_made, zone=zone), now=now)


def _facts(
    started_at: datetime, purposes: list[str] | None, agreement_made: bool | None, *, zone: tzinfo
) -> dict[str, Any]:
    """What a call's retention date follows, as `compute_retain_until` takes it."""
    return {"zone": zone, "started_at": started_at, "purposes": purposes or [], "agreement_made": agreement_made}


def _evidence_until(policies: Policies, facts: Mapping[str, Any], *, now: datetime) -> datetime | None:
    if RetentionRule.VERIFICATION not in applicable_rules(facts["purposes"], agreement_made=facts["agreement_made"]):
        return None
    until = _capped_end(policies, [RetentionRule.VERIFICATION], facts["zone"], facts["started_at"])
    return until if until > now else None


def _within_duty(policies: Policies, facts: Mapping[str, Any], value: datetime, *, now: datetime) -> datetime:
    return within_duty(value, _evidence_until(policies, facts, now=now), now=now)


def within_duty(value: datetime | None, evidence_until: datetime | None, *, now: datetime) -> datetime:
    """`value` (none: the duty's end), no later than the end of the duty an erasure keeps a call for: its agreement
    evidence, else now (a hold keeps it past that date; the sweep deletes it on release)."""
    duty_ends = evidence_until or now
    return min(value or duty_ends, duty_ends)


def list_policies(session: Session) -> list[RetentionPolicy]:
    """The policy table in rule order (purposes first, the global maximum last), for display and Art. 30."""
    order = {rule.value: index for index, rule in enumerate(RetentionRule)}
    return sorted(session.scalars(select(RetentionPolicy)), key=lambda row: order.get(row.rule, len(order)))


def export_policies(session: Session, *, actor: Actor) -> list[RetentionPolicy]:
    """The policy table for the Art. 30 record, its export audited (`retention.policies_exported`) as every
    compliance export is: how many policies and the latest change it includes (the table names no person)."""
    rows = list_policies(session)
    through = max((row.updated_at for row in rows), default=None)
    record_event(
        session,
        actor=actor,
        action="retention.policies_exported",
        object_type="retention_policy",
        details={"format": "csv", "policies": len(rows), "through": through.isoformat() if through else None},
    )
    return rows


@dataclass(frozen=True)
class PolicyPreview:
    """What a change would do: how many live recordings it would recompute, and how many of those would be past
    their new date at once, so that the next sweep deletes them (a held or restricted one is kept, so not counted)."""

    affected: int
    due_now: int


def preview_policy_change(
    session: Session,
    *,
    rule: str,
    keep: int,
    unit: str,
    zone: tzinfo,
    basis: str | None = None,
    now: datetime | None = None,
) -> PolicyPreview:
    """What keeping calls under `rule` for `keep` `unit` (counted in `zone`) would do to the live recordings; nothing
    is changed.

    A `basis` given is checked as applying the change will check it, so a preview is not accepted that cannot be
    applied."""
    target, period = _checked_change(session, rule=rule, keep=keep, unit=unit)
    if basis is not None:
        _checked_basis(basis, kept=session.get_one(RetentionPolicy, target.value).basis)
    policies = {**load_policies(session), target: period}
    now = now or utcnow()
    affected = due_now = 0
    for changes in _recomputed(session, policies, target, zone=zone, now=now):
        affected += len(changes)
        past = [change["id"] for change in changes if change["retain_until"] <= now]  # due at the next sweep
        if past:
            unkept = Recording.id.in_(past) & ~kept_past_retention()
            due_now += session.scalar(select(func.count()).select_from(Recording).where(unkept)) or 0
    return PolicyPreview(affected=affected, due_now=due_now)


@dataclass(frozen=True)
class PolicyChange:
    """What applying a change did: which of keep, unit and basis it changed (none: nothing written or audited) and
    how many recordings it recomputed."""

    changed: tuple[str, ...]
    recomputed: int


def change_policy(session: Session, *, actor: Actor, rule: str, keep: int, unit: str, basis: str, zone: tzinfo) -> int:
    """Set a policy, recompute every affected recording in batches, audit it; returns how many changed."""
    return apply_policy_change(session, actor=actor, rule=rule, keep=keep, unit=unit, basis=basis, zone=zone).recomputed


def apply_policy_change(
    session: Session, *, actor: Actor, rule: str, keep: int, unit: str, basis: str, zone: tzinfo
) -> PolicyChange:
    """Set a policy, recompute every affected recording in batches (its periods counted in `zone`), audit it naming
    what changed.

    The policy as it stands (a form applied twice, a client's retry) changes nothing: no write, no event, and the
    policy keeps who changed it last and when."""
    # Every policy is locked and read as committed first: a change checked against and recomputed with periods that
    # another change is replacing at that moment left the table with a purpose kept longer than the maximum.
    session.scalars(
        select(RetentionPolicy)
        .order_by(RetentionPolicy.rule)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    target, period = _checked_change(session, rule=rule, keep=keep, unit=unit)
    row = session.get_one(RetentionPolicy, target.value)
    text = _checked_basis(basis, kept=row.basis)
    previous = Period(row.keep, PeriodUnit(row.unit))
    changed = tuple(
        name
        for name, was, now in (
            ("keep", row.keep, period.keep),
            ("unit", row.unit, period.unit.value),
            ("basis", row.basis, text),
        )
        if was != now
    )
    if not changed:
        return PolicyChange(changed=(), recomputed=0)
    policies = {**load_policies(session), target: period}
    row.keep, row.unit, row.basis = period.keep, period.unit.value, text
    row.updated_by, row.updated_at = actor.id, utcnow()
    recomputed = 0
    for changes in _recomputed(session, policies, target, zone=zone, now=utcnow()):
        session.execute(update(Recording), changes)
        recomputed += len(changes)
    record_event(
        session,
        actor=actor,
        action="retention.policy_changed",
        object_type="retention_policy",
        object_id=target.value,
        details={"previous": str(previous), "period": str(period), "changed": list(changed), "recomputed": recomputed},
    )
    session.flush()
    return PolicyChange(changed=changed, recomputed=recomputed)


def _checked_basis(basis: str, *, kept: str) -> str:
    """The basis as kept; the policy's own (`kept`), which a change of its period sends back, is taken as stored."""
    missing = "state the basis of the period (law, contract or legitimate interest)"
    return checked_lines("basis", basis, what="a basis", limit=MAX_BASIS, missing=missing, kept=kept)


def _checked_change(session: Session, *, rule: str, keep: int, unit: str) -> tuple[RetentionRule, Period]:
    try:
        target = RetentionRule(rule)
    except ValueError:
        raise NotFound(
            f"no retention policy {rule!r}; one of {', '.join(RetentionRule)}", why="policy_not_found"
        ) from None
    try:
        period_unit = PeriodUnit(unit)
    except ValueError:
        raise Invalid("unit", "one of days, months", code="invalid_choice") from None
    if not 1 <= keep <= MAX_KEEP[period_unit]:
        raise Invalid("keep", f"between 1 and {MAX_KEEP[period_unit]} {period_unit}", code="out_of_range")
    period = Period(keep, period_unit)
    current = load_policies(session)
    if target is RetentionRule.MAXIMUM:
        longer = [rule.value for rule, other in current.items() if rule is not target and other.longer_than(period)]
        if longer:
            raise Invalid(
                "keep", f"shorter than the {', '.join(longer)} policy", code="below_policies", values={"rules": longer}
            )
    elif period.longer_than(maximum := current[RetentionRule.MAXIMUM]):
        raise Invalid(
            "keep",
            f"exceeds the global maximum of {maximum}",
            code="over_maximum",
            values={"keep": maximum.keep, "unit": maximum.unit},
        )
    return target, period


def _recomputed(
    session: Session, policies: Policies, target: RetentionRule, *, zone: tzinfo, now: datetime
) -> Iterator[list[dict[str, Any]]]:
    """Batches of `{"id", "retain_until"}` for the live recordings whose date the policies change."""
    last_id = ""
    while True:
        rows = session.execute(
            _candidates(target).where(Recording.id > last_id).order_by(Recording.id).limit(BATCH)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        changes = [change for row in rows if (change := _change(policies, row, zone=zone, now=now)) is not None]
        if changes:
            yield changes


def _candidates(target: RetentionRule) -> Select[*Candidate]:
    query = select(
        Recording.id,
        Recording.started_at,
        Recording.purposes,
        Recording.agreement_made,
        Recording.retain_until,
        Recording.erasure_kept.label("kept_by_erasure"),
    ).where(Recording.status != RecordingStatus.DELETED)
    if target in {RetentionRule.VERIFICATION, RetentionRule.TRAINING, RetentionRule.QUALITY_STUDY}:
        # The JSON list as text holds the quoted purpose name; exact matching happens in _change.
        query = query.where(cast(Recording.purposes, Text).like(f'%"{target.value}"%'))
    if target is RetentionRule.VERIFICATION:
        query = query.where(Recording.agreement_made.is_(True))
    return query


def kept_past_retention() -> ColumnElement[bool]:
    """What the sweep keeps past its retention date: a call on legal hold, or one restricted (`kept_restricted`)."""
    return Recording.legal_hold.is_(True) | kept_restricted()


def kept_restricted() -> ColumnElement[bool]:
    """A call not on hold that its customer's restriction of processing keeps (GDPR Art. 18): a restricted call may
    only be stored, and erasing it is processing too (Art. 4(2)); the customer may have asked for it to be kept rather
    than erased, or for a legal claim. Not one their erasure kept for a duty: they asked for that call to go, and it
    goes once the duty ends."""
    return Recording.legal_hold.is_(False) & Recording.restricted.is_(True) & Recording.erasure_kept.is_(False)


def erasures_keeping(session: Session, recording_ids: Sequence[str]) -> dict[str, str]:
    """The erasure request that kept each of these recordings for a legal duty only (the first, if several), by id."""
    if not recording_ids:
        return {}
    rows = session.execute(
        select(Recording.id, SubjectRequest.id)
        .where(Recording.id.in_(recording_ids), erasure_keeping())
        .order_by(SubjectRequest.completed_at.desc(), SubjectRequest.id.desc())
    )
    return {recording_id: request_id for recording_id, request_id in rows}  # the last, earliest erasure, wins


def _change(policies: Policies, row: Row[*Candidate], *, zone: tzinfo, now: datetime) -> dict[str, Any] | None:
    facts = _facts(row.started_at, row.purposes, row.agreement_made, zone=zone)
    value = compute_retain_until(policies, **facts)
    if row.kept_by_erasure:
        # Kept for a duty only: a shorter verification period ends it sooner, nothing makes the call stay longer.
        value = min(_within_duty(policies, facts, value, now=now), row.retain_until or value)
    return None if value == row.retain_until else {"id": row.id, "retain_until": value}
