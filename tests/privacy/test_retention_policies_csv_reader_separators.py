"""The retention policies' CSV is separated as the reader's spreadsheet opens it, as the call list's and the audit
trail's exports are: semicolons for a Finnish reader, commas otherwise (a script without a language gets commas).

Found by exploratory testing in Finnish: "Lataa taulukko CSV-tiedostona" on the compliance page gave a
comma-separated file, which Finnish Excel opened as a single column, while the other exports used semicolons."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.recordings import make_token


@pytest.mark.parametrize(
    ("language", "header"), [("fi", "rule;keep;unit;basis;updated_at"), (None, "rule,keep,unit,basis,updated_at")]
)
def test_the_policies_csv_takes_the_readers_separators(
    client: FlaskClient, session: Session, language: str | None, header: str
) -> None:
    headers = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    if language:
        headers["Accept-Language"] = language

    exported = client.get("/api/v1/retention/policies.csv", headers=headers)

    text = exported.data.decode("utf-8-sig")
    assert text.splitlines()[0] == header
    rows = list(csv.reader(io.StringIO(text), delimiter=header[4]))
    assert len(rows) > 1 and {len(row) for row in rows} == {5}
