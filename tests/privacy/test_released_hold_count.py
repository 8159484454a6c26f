"""A released hold's Recordings column says it holds none now, not what its customer has recorded today.

Found by reviewing the holds page: a customer's hold released last year still showed the customer's live calls
(those recorded since included), as if it kept them from deletion.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, aged_call, customer
from tests.page_text import visible_text

LONG_AGO = datetime.now(UTC) - timedelta(days=800)


def holds_column(page: str, reason: str) -> str:
    """The Recordings cell of the hold placed for `reason`, as the reader sees it."""
    row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if reason in row)
    return visible_text(re.findall(r"<td>(.*?)</td>", row, re.S)[1]).strip()


def test_a_released_hold_holds_nothing_now(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    disputed = customer(session)
    aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
    released = holds.place_hold(session, actor=OFFICER, reason="old claim", customer_ref=disputed.customer_ref).hold
    holds.release_hold(session, actor=OFFICER, hold_id=released.id, reason="settled")
    holds.place_hold(session, actor=OFFICER, reason="new claim", customer_ref=disputed.customer_ref)
    aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
    login(client, make_user(session, role=Role.COMPLIANCE))

    page = client.get("/compliance/holds?state=all").get_data(as_text=True)
    assert holds_column(page, "old claim") == "none (released)"
    assert holds_column(page, "new claim") == "2"  # the hold in force counts every live call it keeps
    assert holds.covered_counts(session, [released]) == {released.id: 0}
