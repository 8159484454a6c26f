"""The Art. 30 CSV of the policy table opens in a spreadsheet with its letters as written.

Found acting as a compliance officer in Finland: a basis written in Finnish ("Laki velan vanhentumisesta 728/2003,
sopimuksen näyttö") came out of Excel as "nÃ¤yttÃ¶": without a byte order mark Excel reads a CSV in the system's
legacy code page. The call list's export begins with one; so does this record now.
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

BASIS = "Laki velan vanhentumisesta 728/2003, sopimuksen näyttö"


def test_the_policies_csv_begins_with_a_byte_order_mark(client: FlaskClient, session: Session) -> None:
    retention.apply_policy_change(
        session, actor=OFFICER, rule="verification", keep=36, unit="months", basis=BASIS, zone=ORG_ZONE
    )
    session.commit()
    token = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    exported = client.get("/api/v1/retention/policies.csv", headers=token)

    assert exported.data.startswith("\ufeff".encode()) and exported.mimetype_params.get("charset") == "utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0]["rule"] == "verification" and rows[0]["basis"] == BASIS
