"""A plan's week reads as people write it ("Viikko 49, 2026", "Week 49, 2026") on the dashboard, as on every other
page: the coverage heading showed the stored ISO string ("2026-W49") on Finnish pages."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.staff import client_of
from web.i18n import organisation_today


def test_the_dashboards_coverage_names_the_week_in_the_readers_language(app: Flask, session: Session) -> None:
    supervisor = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    with app.test_request_context():
        year, week, _ = organisation_today().isocalendar()

    finnish = supervisor.get("/dashboard", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    english = supervisor.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)

    heading = re.compile(r'<h2 id="coverage-heading">([^<]*)</h2>')
    # The week first: "viikko" is written small inside a sentence, and the label stands alone elsewhere (tables).
    expected = f"Viikko {week}, {year}: kattavuus asiakaspalvelijoittain"
    assert heading.search(finnish).group(1) == expected  # type: ignore[union-attr]
    assert heading.search(english).group(1) == f"Coverage per agent, Week {week}, {year}"  # type: ignore[union-attr]
