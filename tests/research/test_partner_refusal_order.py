"""Another institute's partner posting a confirmation for a batch not theirs is told it does not exist (404) and
the refusal is audited, whatever the form holds: found by review, an incomplete form (no date, a bad date, a
certificate sent as a plain field) was answered 422 about the form, which tells the batch exists, and
`research.partner_refused` was written only when the form was complete."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.research import as_ready, downloaded, draft, institute, partner

COMPLETE = {"method": "destroyed", "date": "2026-11-20", "signer": "A. Researcher", "title": "Head of lab"}
COMPLETE |= {"statement": "Deleted from the lab's file server."}


@pytest.mark.parametrize(
    "form",
    [
        {key: value for key, value in COMPLETE.items() if key != "date"},
        {**COMPLETE, "date": "yesterday"},
        {**COMPLETE, "certificate": "%PDF-1.4"},
        # A PDF's bytes are no text: not refused as text (NUL, U+0000) before the batch is looked up.
        {**COMPLETE, "certificate": "%PDF-1.4\n\u0000\u0001"},
        {},
    ],
    ids=["no_date", "bad_date", "certificate_as_text", "certificate_holding_nul", "empty"],
)
def test_a_batch_not_theirs_is_404_and_audited_before_the_form_is_read(
    client: FlaskClient, session: Session, runtime: Runtime, form: dict[str, str]
) -> None:
    ours, theirs = institute(session), institute(session)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), theirs.id))
    downloaded(session, batch)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, ours.id), scope="partner")
    session.commit()

    answer = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation", data=form, headers={"Authorization": f"Bearer {plain}"}
    )

    assert answer.status_code == 404, answer.json
    assert answer.json["error"] == "not_found"
    assert [event.details.get("rule") for event in events(session, "research.partner_refused", batch.id)] == [
        "institute"
    ]
