"""An extension counts its months from the day the request was received where the organisation is, as the first
month was counted: counted in UTC, a request received on the 1st in Helsinki (the last day of the month before, in
UTC) was extended to a date days short of the months granted."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.runtime import Runtime
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import OFFICER, customer, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.factories.zones import app_in_zone

HELSINKI = ZoneInfo("Europe/Helsinki")


def test_an_extension_counts_the_months_where_the_request_was_received(session: Session) -> None:
    ref = customer(session).customer_ref
    received = datetime(2026, 3, 1, tzinfo=HELSINKI)  # 28 February 22:00 in UTC
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=ref, kind="objection", received_at=received, now=received
    )
    assert request.due_at == datetime(2026, 4, 1, 23, 59, 59, 999999, tzinfo=HELSINKI)

    extended = subjects.extend_request(
        session, actor=OFFICER, request_id=request.id, months=1, reason="many calls", zone=HELSINKI, now=received
    )

    assert extended.extended_until == datetime(2026, 5, 1, 23, 59, 59, 999999, tzinfo=HELSINKI)  # not 29 April


def test_the_page_extends_a_request_typed_as_received_on_the_first(
    settings: Settings, runtime: Runtime, session: Session
) -> None:
    """Received on the 1st of this month (never overdue yet), extended by one month: due by the end of the 1st two
    months on."""
    app = app_in_zone(settings, runtime, HELSINKI.key)
    client = app.test_client()
    login(client, make_user(session, role=Role.COMPLIANCE))
    person = customer(session)
    session.commit()
    first = datetime.now(HELSINKI).date().replace(day=1)
    path = f"/subjects/?customer_ref={person.customer_ref}"
    made = post_form(
        client,
        "/subjects/",
        {"customer_ref": person.customer_ref, "kind": "objection", "received_on": first.isoformat()},
        token_from=path,
    )
    assert made.status_code == 302
    request = session.scalars(select(SubjectRequest)).one()

    extended = post_form(
        client,
        f"/subjects/{request.id}/extend",
        {"months": "1", "reason": "many calls"},
        token_from=f"/subjects/{request.id}",
    )

    assert extended.status_code == 302
    session.refresh(request)
    year, month = divmod(first.month - 1 + 2, 12)
    assert request.extended_until == datetime(first.year + year, month + 1, 1, 23, 59, 59, 999999, tzinfo=HELSINKI)
    assert request.extended_until.astimezone(UTC) > request.due_at
