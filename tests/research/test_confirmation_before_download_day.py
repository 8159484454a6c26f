"""A confirmation dated the day before the last download's earliest calendar date anywhere is refused.

Found by exploratory testing of research custody: the check allowed a whole day of slack, so a package downloaded at
20:00 UTC could be confirmed destroyed the day before, though that day had ended everywhere (UTC−12 included) before
the download began. The earliest date at a moment is UTC−12's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import audit
from recordings_service.db import utcnow
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call

FIELDS = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}


def test_a_date_before_the_download_everywhere_is_refused(
    client: FlaskClient, session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id))
    batch.built_at = utcnow() - timedelta(days=10)
    served_at = datetime.combine((utcnow() - timedelta(days=3)).date(), datetime.min.time(), UTC) + timedelta(hours=20)
    with monkeypatch.context() as patched:
        patched.setattr(audit, "utcnow", lambda: served_at)
        downloaded(session, batch)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    day_before = (served_at - timedelta(days=1)).date().isoformat()  # ended at 12:00 UTC at the latest (UTC−12)

    answer = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation",
        data={**FIELDS, "date": day_before},
        headers={"Authorization": f"Bearer {plain}"},
    )

    assert answer.status_code == 422, answer.json
    assert (answer.json["error"], answer.json["field"]) == ("before_last_download", "date")
    assert events(session, "research.confirmation_submitted", batch.id) == []
