"""A partner's confirmation refused for one of its fields says why beside that field, not at the top of the page.

Found by exploratory testing as a partner: a date in the future marked the date field invalid but said why only in
a banner above the batch's details, a screen away from the form; no field named its message for a screen reader.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import User
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of

FUTURE = "the return or destruction cannot be in the future"


def test_a_refused_field_says_why_beside_itself(app: Flask, officer: User, session: Session, runtime: Runtime) -> None:
    made = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, made)
    client = client_of(app, partner(session, made.institute_id))
    session.commit()
    path = f"/partner/batches/{made.id}"
    in_a_week = (utcnow().date() + timedelta(days=7)).isoformat()
    fields = {"method": "destroyed", "confirmed_on": in_a_week, "signer": "Dr. A. Researcher", "title": "Head of lab"}
    fields |= {"statement": "Every copy was deleted.", "csrf_token": csrf_token(client, path)}

    answer = client.post(f"{path}/confirmation", data=fields, content_type="multipart/form-data")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    date = re.search(r'<input id="confirmed_on"[^>]*>\s*<p id="confirmed_on-error"[^>]*>([^<]*)</p>', page)
    assert date is not None and FUTURE in date[1]
    assert 'aria-invalid="true" aria-describedby="confirmed_on-error"' in date[0]
    assert page.count(FUTURE) == 1  # not again at the top
    assert page.count('aria-invalid="true"') == 1  # the one field
