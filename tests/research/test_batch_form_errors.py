"""The new-batch form names the field an error is about, and points its input at the message: it said only
"anna luku" ("enter a number") above a form with four number fields and four dates."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from tests.factories.accounts import csrf_token
from tests.factories.research import institute

NEW_BATCH = "/research/batches/new"
FINNISH = {"Accept-Language": "fi"}


def test_a_refused_value_is_named_by_its_fields_label_in_the_readers_language(
    officer_client: FlaskClient, session: Session
) -> None:
    lab = institute(session)
    session.commit()
    year = utcnow().year + 1
    form = {
        "study": "Laskutuspuhelut",
        "purpose": "Miten arvioidut laskut selitetään",
        "institute_id": lab.id,
        "from": "2026-11-01",
        "to": "2026-11-30",
        "sample_size": "kymmenen",
        "study_end": f"{year}-06-30",
        "access_start": f"{year}-01-15T10:00",
        "access_end": f"{year}-02-15T10:00",
        "audio": "redacted",
        "csrf_token": csrf_token(officer_client, NEW_BATCH),
    }

    page = officer_client.post(NEW_BATCH, data=form, headers=FINNISH).get_data(as_text=True)

    error = re.search(r'<p class="flash error" role="alert" id="form-error">([^<]*)</p>', page)
    assert error is not None and error.group(1).startswith("Otoskoko: "), page
    sample_size = re.search(r'<input id="sample_size"[^>]*>', page)
    assert sample_size is not None
    assert 'aria-invalid="true"' in sample_size.group() and 'aria-describedby="form-error"' in sample_size.group()
    assert 'value="Laskutuspuhelut"' in page  # what was typed is kept
