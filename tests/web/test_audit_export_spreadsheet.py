"""The audit trail's CSV opens in a spreadsheet with its letters as written.

Found acting as a compliance officer in Finland: an export opened in Excel showed the actor "Mäkinen" as
"MÃ¤kinen" (without a byte order mark Excel reads a CSV in the system's legacy code page), while the call list's
export begins with one; and a detail's "säilytys" was written as JSON escapes, "s\\u00e4ilytys", in any program.
"""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user

MAKINEN = Actor(id=None, name="Mäkinen", role=Role.COMPLIANCE)


def test_the_audit_csv_begins_with_a_byte_order_mark(client: FlaskClient, session: Session) -> None:
    record_event(session, actor=MAKINEN, action="spreadsheet.step", details={"note": "säilytys"})
    login(client, make_user(session, role=Role.COMPLIANCE))

    exported = client.get("/audit/export.csv?action=spreadsheet.step")

    assert exported.data.startswith("\ufeff".encode()) and exported.mimetype_params.get("charset") == "utf-8"
    (row,) = csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig")))
    assert row["actor_name"] == "Mäkinen" and "säilytys" in row["details"]
