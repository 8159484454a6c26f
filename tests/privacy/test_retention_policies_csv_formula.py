"""The Art. 30 CSV of the policy table does not hand a spreadsheet a basis it would run as a formula.

Found acting as a compliance officer: a basis typed as `=HYPERLINK("http://x","Limitation Act")` (or pasted from a
document starting with `-` or `@`) went into `/api/v1/retention/policies.csv` as it was, and a spreadsheet opening
the record ran it, while the audit and call-list exports quote such cells.
"""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import retention
from tests.factories.privacy import OFFICER, ORG_ZONE
from tests.factories.recordings import make_token

FORMULA = '=HYPERLINK("http://example.invalid","Limitation Act")'


def test_a_basis_a_spreadsheet_would_run_is_quoted(client: FlaskClient, session: Session) -> None:
    retention.apply_policy_change(
        session, actor=OFFICER, rule="training", keep=12, unit="months", basis=FORMULA, zone=ORG_ZONE
    )
    session.commit()
    token = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    exported = client.get("/api/v1/retention/policies.csv", headers=token)
    bases = {row["rule"]: row["basis"] for row in csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig")))}
    assert bases["training"] == "'" + FORMULA
    assert "728/2003" in bases["verification"] and not bases["verification"].startswith("'")  # plain text as it is
