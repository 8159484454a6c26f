"""Retention policies: the seeded defaults, `retain_until` for each purpose mix, and changing a policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.models import AuditEvent, RetentionPolicy
from recordings_service.models.account import Role
from recordings_service.models.privacy import PeriodUnit, RetentionRule
from recordings_service.privacy import retention
from recordings_service.privacy.retention import Period, compute_retain_until, load_policies
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, reload
from tests.factories.recordings import make_token

# A leap day: twelve months later is 28 February, three years later too.
LEAP_DAY = datetime(2024, 2, 29, 9, 30, tzinfo=UTC)


def test_the_migration_seeds_the_documented_defaults(session: Session) -> None:
    assert load_policies(session) == {
        RetentionRule.VERIFICATION: Period(36, PeriodUnit.MONTHS),
        RetentionRule.TRAINING: Period(12, PeriodUnit.MONTHS),
        RetentionRule.QUALITY_STUDY: Period(12, PeriodUnit.MONTHS),
        RetentionRule.NO_AGREEMENT: Period(12, PeriodUnit.MONTHS),
        RetentionRule.MAXIMUM: Period(120, PeriodUnit.MONTHS),
    }
    verification = session.get_one(RetentionPolicy, "verification")
    assert "728/2003" in verification.basis


@pytest.mark.parametrize(
    ("purposes", "agreement_made", "expected"),
    [
        (["verification"], True, datetime(2027, 2, 28, 9, 30, tzinfo=UTC)),
        (["verification"], False, datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
        (["verification"], None, datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
        ([], None, datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
        (["training"], None, datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
        (["quality_study"], True, datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
        (["quality_study", "verification"], True, datetime(2027, 2, 28, 9, 30, tzinfo=UTC)),
        (["verification", "training"], False, datetime(2025, 2, 28, 9, 30, tzinfo=UTC)),
    ],
)
def test_retain_until_is_the_latest_of_the_purposes(
    session: Session, purposes: list[str], agreement_made: bool | None, expected: datetime
) -> None:
    assert (
        retention.retain_until_for(
            session, started_at=LEAP_DAY, purposes=purposes, agreement_made=agreement_made, zone=ORG_ZONE
        )
        == expected
    )


def test_the_global_maximum_caps_every_purpose() -> None:
    policies = {
        RetentionRule.VERIFICATION: Period(20, PeriodUnit.DAYS),
        RetentionRule.TRAINING: Period(90, PeriodUnit.DAYS),
        RetentionRule.QUALITY_STUDY: Period(1, PeriodUnit.DAYS),
        RetentionRule.NO_AGREEMENT: Period(1, PeriodUnit.DAYS),
        RetentionRule.MAXIMUM: Period(1, PeriodUnit.MONTHS),
    }
    start = datetime(2026, 1, 31, tzinfo=UTC)
    assert compute_retain_until(
        policies, started_at=start, purposes=["training"], agreement_made=None, zone=ORG_ZONE
    ) == datetime(2026, 2, 28, tzinfo=UTC)


def test_no_policy_may_exceed_the_maximum(session: Session) -> None:
    with pytest.raises(Invalid) as over:
        retention.change_policy(
            session, actor=OFFICER, rule="training", keep=121, unit="months", basis="x", zone=ORG_ZONE
        )
    assert (over.value.field, over.value.code) == ("keep", "over_maximum")
    with pytest.raises(Invalid) as over_in_days:
        retention.preview_policy_change(session, rule="verification", keep=3654, unit="days", zone=ORG_ZONE)
    assert over_in_days.value.field == "keep"
    with pytest.raises(Invalid) as below:
        retention.change_policy(
            session, actor=OFFICER, rule="maximum", keep=35, unit="months", basis="x", zone=ORG_ZONE
        )
    assert (below.value.field, below.value.code) == ("keep", "below_policies")
    with pytest.raises(Invalid) as no_basis:
        retention.change_policy(
            session, actor=OFFICER, rule="training", keep=6, unit="months", basis="  ", zone=ORG_ZONE
        )
    assert no_basis.value.field == "basis"


def test_a_policy_change_is_previewed_then_recomputes_the_affected_calls(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    start = datetime(2026, 3, 1, tzinfo=ORG_ZONE)
    training = [aged_call(session, bucket, envelope, started_at=start, purposes=["training"]) for _ in range(3)]
    longer = aged_call(
        session, bucket, envelope, started_at=start, purposes=["training", "verification"], agreement_made=True
    )
    other = aged_call(session, bucket, envelope, started_at=start, purposes=["quality_study"])
    both = aged_call(session, bucket, envelope, started_at=start, purposes=["training", "quality_study"])

    # Six months: the training-only calls move; the others are kept longer by another purpose.
    assert retention.preview_policy_change(session, rule="training", keep=6, unit="months", zone=ORG_ZONE).affected == 3
    assert (
        retention.preview_policy_change(session, rule="training", keep=12, unit="months", zone=ORG_ZONE).affected == 0
    )
    recomputed = retention.change_policy(
        session, actor=OFFICER, rule="training", keep=6, unit="months", basis="One training cycle.", zone=ORG_ZONE
    )
    assert recomputed == 3
    for call in training:
        assert reload(session, call.id).retain_until == datetime(2026, 9, 1, tzinfo=ORG_ZONE)
    for call, expected in (
        (longer, datetime(2029, 3, 1, tzinfo=ORG_ZONE)),
        (other, datetime(2027, 3, 1, tzinfo=ORG_ZONE)),
    ):
        assert reload(session, call.id).retain_until == expected
    assert reload(session, both.id).retain_until == datetime(2027, 3, 1, tzinfo=ORG_ZONE)
    assert retention.preview_policy_change(session, rule="training", keep=6, unit="months", zone=ORG_ZONE).affected == 0
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.policy_changed")).one()
    assert event.details == {
        "previous": "12 months",
        "period": "6 months",
        "changed": ["keep", "basis"],
        "recomputed": 3,
    }
    assert session.get_one(RetentionPolicy, "training").basis == "One training cycle."


def test_policies_api_exports_json_and_csv_and_changes_with_preview(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    aged_call(session, bucket, envelope, started_at=datetime(2026, 1, 1, tzinfo=UTC), purposes=["quality_study"])
    token = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    listed = client.get("/api/v1/retention/policies", headers=token)
    assert listed.status_code == 200
    assert [item["rule"] for item in listed.json["items"]] == [rule.value for rule in RetentionRule]
    exported = client.get("/api/v1/retention/policies.csv", headers=token)
    assert exported.mimetype == "text/csv"
    lines = exported.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "rule,keep,unit,basis,updated_at" and lines[1].startswith("verification,36,months,")

    preview = client.post(
        "/api/v1/retention/policies/quality_study/preview", json={"keep": 90, "unit": "days"}, headers=token
    )
    assert preview.status_code == 200 and preview.json["affected"] >= 1
    changed = client.put(
        "/api/v1/retention/policies/quality_study",
        json={"keep": 90, "unit": "days", "basis": "Quarterly QA."},
        headers=token,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["policy"]["keep"] == 90 and changed.json["recomputed"] == preview.json["affected"]

    bad_unit = client.put(
        "/api/v1/retention/policies/training", json={"keep": 3, "unit": "weeks", "basis": "x"}, headers=token
    )
    assert (bad_unit.status_code, bad_unit.json["field"]) == (422, "unit")
    zero = client.post("/api/v1/retention/policies/training/preview", json={"keep": 0, "unit": "days"}, headers=token)
    assert (zero.status_code, zero.json["field"]) == (422, "keep")
    no_basis = client.put("/api/v1/retention/policies/training", json={"keep": 3, "unit": "months"}, headers=token)
    assert (no_basis.status_code, no_basis.json["field"]) == (422, "basis")
    unknown = client.put(
        "/api/v1/retention/policies/forever", json={"keep": 3, "unit": "days", "basis": "x"}, headers=token
    )
    assert unknown.status_code == 404

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert client.get("/api/v1/retention/policies").status_code == 403
