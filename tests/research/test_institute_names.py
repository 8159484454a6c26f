"""An institute's name is unique: a second institute of the same name is refused as a conflict."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict
from recordings_service.models import Institute
from recordings_service.models.account import Role
from recordings_service.research.institutes import create_institute
from tests.factories.accounts import SYSTEM
from tests.factories.recordings import make_token

BODY = {"country": "FI", "agreement_ref": "DPA-1", "contact": "lab@example.org"}


def test_a_second_institute_of_the_same_name_is_a_conflict_naming_it(client: FlaskClient, session: Session) -> None:
    headers = {"Authorization": f"Bearer {make_token(session, role=Role.COMPLIANCE, scope='research')}"}
    body = {**BODY, "name": "Turku lab", "agreement_date": "2026-10-01"}
    assert client.post("/api/v1/research/institutes", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/research/institutes", json={**body, "agreement_ref": "DPA-2"}, headers=headers)
    assert again.status_code == 409 and "Turku lab" in again.json["message"], again.json
    assert session.scalar(select(func.count()).select_from(Institute).where(Institute.name == "Turku lab")) == 1


def test_the_refusal_keeps_the_work_done_before_it(session: Session) -> None:
    """Found by review: the savepoint meant to catch the duplicate began after the insert was flushed, so the
    refusal rolled back the caller's whole transaction: the institute created just before it was gone too."""
    create_institute(session, actor=SYSTEM, name="Oulu lab", agreement_date=date(2026, 10, 1), **BODY)
    with pytest.raises(Conflict):
        create_institute(session, actor=SYSTEM, name="Oulu lab", agreement_date=date(2026, 10, 2), **BODY)
    create_institute(session, actor=SYSTEM, name="Vaasa lab", agreement_date=date(2026, 10, 1), **BODY)
    names = session.scalars(select(Institute.name).where(Institute.name.in_(["Oulu lab", "Vaasa lab"]))).all()
    assert sorted(names) == ["Oulu lab", "Vaasa lab"]
