"""The partner's list of batches says which batches hold requests the institute must act on.

Found using the portal as a partner: a customer's erasure request or objection passed on to the institute was shown
on the batch's own page alone; the list of batches, where the partner lands, gave no sign of it, so a partner who
had downloaded the batch long before never opened its page again to see it.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.runtime import Runtime
from tests.factories.research import as_ready, draft, institute, partner
from tests.factories.staff import client_of


def test_the_list_counts_each_batchs_requests_not_yet_acknowledged(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    lab = institute(session).id
    flagged = as_ready(draft(session, runtime, officer, lab))
    flagged.follow_up = [
        {"kind": "erasure", "customer_pseudonyms": ["C-1"], "flagged_at": "2026-11-02T10:00:00+00:00"},
        {"kind": "objection", "customer_pseudonyms": ["C-2"], "flagged_at": "2026-11-03T10:00:00+00:00"},
        {"kind": "erasure", "customer_pseudonyms": ["C-3"], "acknowledged_at": "2026-11-04T10:00:00+00:00"},
    ]
    quiet = as_ready(draft(session, runtime, officer, lab))
    quiet.study = "A quiet study"
    client = client_of(app, partner(session, lab))
    session.commit()

    page = client.get("/partner/").get_data(as_text=True)

    link = f'<a href="/partner/batches/{flagged.id}#follow-up-heading"><strong>2 requests to act on</strong></a>'
    assert link in page
    assert page.count("to act on") == 1  # the quiet batch says nothing
    finnish = client.get("/partner/", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert f'href="/partner/batches/{flagged.id}#follow-up-heading"' in finnish
