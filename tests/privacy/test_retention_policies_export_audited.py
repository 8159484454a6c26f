"""The Art. 30 CSV of the policy table is audited, as every compliance export is.

Found by reviewing the compliance exports: the audit trail, the call list, research and access packages each record
their export, while `/api/v1/retention/policies.csv` left no trace of who took the record and which version of the
table it held. The table names no person, so its event keeps counts and the latest change it includes.
"""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import retention
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, ORG_ZONE
from tests.factories.recordings import make_token


def test_the_policies_csv_is_audited_with_counts_and_the_latest_change(client: FlaskClient, session: Session) -> None:
    retention.apply_policy_change(
        session, actor=OFFICER, rule="training", keep=6, unit="months", basis="Two training cycles.", zone=ORG_ZONE
    )
    session.commit()
    token = make_token(session, role=Role.COMPLIANCE, scope="compliance")

    exported = client.get("/api/v1/retention/policies.csv", headers={"Authorization": f"Bearer {token}"})

    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    (event,) = events(session, "retention.policies_exported")
    latest = max(row.updated_at for row in retention.list_policies(session))
    assert (event.object_type, event.role) == ("retention_policy", Role.COMPLIANCE) and event.actor_id is not None
    assert event.details == {"format": "csv", "policies": len(rows), "through": latest.isoformat()}
    assert "Two training cycles." not in str(event.details)
