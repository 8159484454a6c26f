"""What the customer's legal duties and the retention policies make of a call being ingested: held, restricted
(Art. 18), kept or refused under an erasure carried out after it was made (Art. 17), or refused as past its
retention; and how its trail names the holds and restrictions it came in under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import Invalid
from recordings_service.models import Recording
from recordings_service.privacy.erasure import erasure_covering
from recordings_service.privacy.holds import active_holds_on, customer_held
from recordings_service.privacy.restriction import restriction_in_force, restrictions_in_force
from recordings_service.privacy.retention import (
    Policies,
    agreement_evidence_until_for,
    applicable_rules,
    compute_retain_until,
    load_policies,
    within_duty,
)


@dataclass(frozen=True)
class Duties:
    legal_hold: bool
    restricted: bool
    retain_until: datetime
    erasure_id: str | None  # the customer's erasure that keeps the call for a legal duty, for compliance only

    @property
    def erasure_kept(self) -> bool:
        return self.erasure_id is not None


def duties_of_new_call(
    session: Session,
    *,
    settings: Settings,
    customer_id: str | None,
    started_at: datetime,
    purposes: list[str],
    agreement_made: bool | None,
) -> Duties:
    """The duties a call comes in under, read under the customer's row lock; `Invalid` for one that may not be kept:
    covered by a carried-out erasure (`erased`) or past its retention (`past_retention`), unless a duty keeps it."""
    now = utcnow()
    policies = load_policies(session)
    retain_until = compute_retain_until(
        policies, zone=settings.zone, started_at=started_at, purposes=purposes, agreement_made=agreement_made
    )
    legal_hold, restricted, erasure_id = _customer_duties(session, customer_id, started_at)
    if erasure_id is not None:
        evidence_until = agreement_evidence_until_for(
            policies,
            zone=settings.zone,
            started_at=started_at,
            purposes=purposes,
            agreement_made=agreement_made,
            now=now,
        )
        if not legal_hold and evidence_until is None:
            # Stored, it would bring back what the customer had erased (an archive imported after the erasure).
            raise Invalid(
                "customer_ref",
                f"the customer's erasure (subject request {erasure_id}) was carried out after this call was made: "
                "a call it covers is not taken in, unless a hold on the customer or an agreement on it keeps it",
                code="erased",
            )
        # Kept as the erasure keeps such a call (`erase_customer`): for that duty only, and for compliance only.
        retain_until = within_duty(retain_until, evidence_until, now=now)
    if retain_until <= now and not legal_hold:
        # Kept, it would be unlawful to keep and gone with the next sweep; the sender should know now.
        raise Invalid(
            "started_at",
            f"the call's retention ended on {retain_until:%Y-%m-%d} ({_kept_by(policies, purposes, agreement_made)}): "
            "a call past its retention is not taken in",
            code="past_retention",
        )
    return Duties(legal_hold, restricted, retain_until, erasure_id)


def duties_named(session: Session, recording: Recording, duties: Duties) -> dict[str, str]:
    """The customer's holds and restrictions a call came in under (ids), for its trail: a call ingested after them
    was held or restricted from the start, and its trail (its evidence package's) said so nowhere. And the erasure a
    call is kept under (`erasure_request_id`), taken in only as the erasure keeps such a call."""
    named = {}
    if duties.erasure_id is not None:
        named["erasure_request_id"] = duties.erasure_id
    if duties.legal_hold:  # a call just stored has no hold of its own: these are its customer's
        named["legal_holds"] = ",".join(hold.id for hold in active_holds_on(session, recording))
    if duties.restricted and recording.customer_id is not None:
        named["restrictions"] = ",".join(restrictions_in_force(session, recording.customer_id))
    return named


def _kept_by(policies: Policies, purposes: list[str], agreement_made: bool | None) -> str:
    """Which periods kept the call, as the refusal names them: "purposes verification, no_agreement 12 months"; a
    legacy export without `agreement_made` is kept for `no_agreement`, not `verification`, which the purposes alone
    did not say."""
    rules = sorted(applicable_rules(purposes, agreement_made=agreement_made))
    return f"purposes {', '.join(purposes) or 'none'}, " + ", ".join(f"{rule.value} {policies[rule]}" for rule in rules)


def _customer_duties(session: Session, customer_id: str | None, started_at: datetime) -> tuple[bool, bool, str | None]:
    """Whether the customer's calls are held, whether they are restricted (Art. 18), and the erasure carried out
    after a call made at `started_at` (Art. 17), read in one statement."""
    if customer_id is None:
        return False, False, None
    held, restricted, erasure_id = session.execute(
        select(customer_held(customer_id), restriction_in_force(customer_id), erasure_covering(customer_id, started_at))
    ).one()
    return bool(held), bool(restricted), erasure_id
