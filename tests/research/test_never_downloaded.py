"""A batch whose access window ended with nothing ever downloaded is closed by the expiry job (`never_downloaded`):
the institute never held a copy, so it owes no confirmation of return or destruction and gets no overdue reminder.
Before, such a batch became `expired, confirmation owed`, then `overdue` with weekly reminders, and sat in
compliance's list of outstanding custody. A batch served even one range (not from byte 0) expires as before."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from jobs.custody import expire_batches, remind_overdue
from recordings_service.db import utcnow
from recordings_service.models import BatchItem, CustodyConfirmation, ResearchBatch, User
from recordings_service.models.research import BatchState
from recordings_service.privacy.access_package import package_recipients
from recordings_service.research import confirmations
from recordings_service.research.lifecycle import exports_prefix
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_token
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call
from tests.factories.staff import client_of
from tests.research.conftest import MakeBatch


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _built(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> ResearchBatch:
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == BatchState.READY and list(runtime.store.list_versions(exports_prefix(batch.id)))
    return batch


def _end_window(session: Session, batch: ResearchBatch) -> None:
    batch.access_end = utcnow() - timedelta(minutes=1)
    session.commit()


def _partner_headers(session: Session, institute_id: str) -> dict[str, str]:
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, institute_id), scope="partner")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_a_batch_never_downloaded_is_closed_when_its_window_ends_and_never_reminded(
    session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    batch = _built(session, runtime, approved_batch)
    _end_window(session, batch)

    counts = expire_batches(runtime)

    assert (counts["closed"], counts["expired"], counts["purged"]) == (1, 0, 1) and counts["versions"] >= 1
    session.refresh(batch)
    assert (batch.state, batch.closed_reason, batch.closed_by) == ("closed", "never_downloaded", None)
    assert batch.closed_at is not None and batch.pseudonym_key is None and batch.package_purged_at is not None
    assert list(runtime.store.list_versions(exports_prefix(batch.id))) == []
    assert [event.details for event in events(session, "research.batch_closed", batch.id)] == [
        {"reason": "never_downloaded"}
    ]
    assert events(session, "research.batch_expired", batch.id) == []

    settings = replace(runtime.settings, smtp_url="")
    late = datetime.combine(batch.study_end, time(), tzinfo=UTC) + timedelta(days=60)
    reminded = remind_overdue(runtime, settings=settings, now=late)

    assert (reminded["overdue"], reminded["logged"], reminded["reminded"]) == (0, 0, 0)
    session.refresh(batch)
    assert (batch.state, batch.reminders_sent) == ("closed", 0)
    assert events(session, "research.reminder_sent", batch.id) == []


def test_a_batch_served_only_a_later_range_expires_and_still_owes_a_confirmation(
    app: Flask, client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    """`downloads` counts only requests from byte 0; any bytes served mean the institute may hold a copy."""
    batch = _built(session, runtime, approved_batch)
    headers = _partner_headers(session, batch.institute_id)
    served = client.get(f"/api/v1/research/batches/{batch.id}/package", headers={**headers, "Range": "bytes=100-"})
    assert served.status_code == 206 and served.data
    session.refresh(batch)
    assert batch.downloads == 0 and len(events(session, "batch.downloaded", batch.id)) == 1
    _end_window(session, batch)

    counts = expire_batches(runtime)

    assert (counts["expired"], counts["closed"]) == (1, 0)
    session.refresh(batch)
    assert (batch.state, batch.closed_reason) == ("expired", None) and batch.pseudonym_key is not None
    page = client_of(app, partner(session, batch.institute_id)).get(f"/partner/batches/{batch.id}")
    assert f"/partner/batches/{batch.id}/confirmation" in page.get_data(as_text=True)

    settings = replace(runtime.settings, smtp_url="")
    late = datetime.combine(batch.study_end, time(), tzinfo=UTC) + timedelta(days=60)
    assert remind_overdue(runtime, settings=settings, now=late)["logged"] == 1
    expire_batches(runtime, now=late)
    session.refresh(batch)
    assert batch.state == "overdue"


def _left_expired(session: Session, runtime: Runtime, officer: User, lab: str, state: BatchState) -> ResearchBatch:
    """A built batch the old expiry job left `state` (expired or overdue) although nothing was downloaded."""
    made = as_ready(draft(session, runtime, officer, lab))
    made.state, made.access_end, made.expired_at = state, utcnow() - timedelta(days=40), utcnow() - timedelta(days=40)
    session.flush()
    return made


def test_batches_left_expired_or_overdue_without_a_download_close_on_the_next_run(
    session: Session, runtime: Runtime, officer: User
) -> None:
    lab = institute(session).id
    expired = _left_expired(session, runtime, officer, lab, BatchState.EXPIRED)
    overdue = _left_expired(session, runtime, officer, lab, BatchState.OVERDUE)
    held = _left_expired(session, runtime, officer, lab, BatchState.EXPIRED)
    downloaded(session, held, start=5000)
    waiting = _left_expired(session, runtime, officer, lab, BatchState.OVERDUE)
    session.add(
        CustodyConfirmation(
            batch_id=waiting.id, method="destroyed", confirmed_on=utcnow().date(), signer="A", title="B", statement="C"
        )
    )
    session.commit()

    assert expire_batches(runtime)["closed"] == 2

    session.expire_all()
    states = {batch.id: (batch.state, batch.closed_reason) for batch in session.scalars(_in(expired, overdue, held))}
    assert states == {
        expired.id: ("closed", "never_downloaded"),
        overdue.id: ("closed", "never_downloaded"),
        held.id: ("expired", None),
    }
    session.refresh(waiting)
    assert waiting.state == "overdue"  # compliance decides on the confirmation waiting for it

    confirmations.reject_confirmation(session, actor=actor_of(officer), batch_id=waiting.id, reason="unsigned")
    session.commit()
    assert expire_batches(runtime)["closed"] == 1  # sent back: nothing was ever downloaded, so custody ends
    session.refresh(waiting)
    assert (waiting.state, waiting.closed_reason) == ("closed", "never_downloaded")


def _in(*batches: ResearchBatch) -> Select[tuple[ResearchBatch]]:
    return select(ResearchBatch).where(ResearchBatch.id.in_([batch.id for batch in batches]))


def test_a_batch_closed_on_an_accepted_confirmation_says_confirmed(
    session: Session, runtime: Runtime, officer: User
) -> None:
    made = as_ready(draft(session, runtime, officer, institute(session).id))
    session.add(
        CustodyConfirmation(
            batch_id=made.id, method="returned", confirmed_on=utcnow().date(), signer="A", title="B", statement="C"
        )
    )
    session.flush()

    confirmations.accept_confirmation(session, actor=actor_of(officer), batch_id=made.id)

    assert (made.state, made.closed_reason) == ("closed", "confirmed")
    assert events(session, "research.batch_closed", made.id)[0].details["reason"] == "confirmed"


def test_the_partner_and_compliance_are_told_the_batch_closed_because_nothing_was_downloaded(
    app: Flask, client: FlaskClient, officer_client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    call = research_call(session, runtime.store, runtime.envelope)
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab))
    made.access_end = utcnow() - timedelta(minutes=1)
    session.commit()
    expire_batches(runtime)
    partner_headers = _partner_headers(session, lab)
    compliance = {"Authorization": "Bearer " + make_token(session, role=officer.role, scope="research")}
    partner_page = client_of(app, partner(session, lab))

    page = _text(partner_page.get(f"/partner/batches/{made.id}").get_data(as_text=True))
    listed = _text(partner_page.get("/partner/").get_data(as_text=True))
    own = client.get("/api/v1/research/partner/batches", headers=partner_headers).json["items"]
    refused = client.post(
        f"/api/v1/research/batches/{made.id}/confirmation",
        data={
            "method": "destroyed",
            "date": utcnow().date().isoformat(),
            "signer": "A",
            "title": "B",
            "statement": "C",
        },
        headers=partner_headers,
    )
    staff_page = _text(officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True))
    shown = client.get(f"/api/v1/research/batches/{made.id}", headers=compliance).json
    custody = client.get(f"/api/v1/recordings/{call.id}/custody", headers=compliance).json["items"]

    assert "closed, never downloaded" in page and "closed, never downloaded" in listed
    assert "without the package ever being downloaded" in page
    assert "nothing to return or destroy: no confirmation is owed" in page
    assert "you confirm it here by" not in page and "Send the confirmation" not in page
    assert [(row["id"], row["state"], row["closed_reason"]) for row in own] == [(made.id, "closed", "never_downloaded")]
    assert refused.status_code == 409
    assert "closed, never downloaded" in staff_page
    assert "the package was never downloaded, so the institute never held a copy" in staff_page
    assert "has not confirmed return or destruction" not in staff_page
    assert (shown["state"], shown["closed_reason"]) == ("closed", "never_downloaded")
    assert [(row["batch_id"], row["outstanding"], row["closed_reason"]) for row in custody] == [
        (made.id, False, "never_downloaded")
    ]


def test_the_customers_access_package_lists_no_institute_for_a_batch_never_downloaded(
    session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    """Art. 15(1)(c) names the recipients: an institute that never downloaded the package received nothing. While
    the window is open the package may still be fetched, so the institute is listed until then."""
    batch = _built(session, runtime, approved_batch)
    (customer_id,) = session.scalars(select(BatchItem.customer_id).where(BatchItem.batch_id == batch.id))
    [listed] = package_recipients(session, customer_id=customer_id)
    # Found by exploratory testing: it read as disclosed when built, which the package's note called "received".
    assert (listed["custody"], listed["disclosed_at"]) == ("ready", None)
    _end_window(session, batch)

    expire_batches(runtime)

    session.refresh(batch)
    assert batch.closed_reason == "never_downloaded"
    assert package_recipients(session, customer_id=customer_id) == []


def test_the_customers_access_package_dates_a_disclosure_from_the_first_download(
    session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    batch = _built(session, runtime, approved_batch)
    (customer_id,) = session.scalars(select(BatchItem.customer_id).where(BatchItem.batch_id == batch.id))
    downloaded(session, batch, stop=10)
    downloaded(session, batch, start=10, stop=20)

    [listed] = package_recipients(session, customer_id=customer_id)

    [first, _] = events(session, "batch.download_started", batch.id)
    assert listed["disclosed_at"] == first.occurred_at.isoformat()
