"""Compliance ends an approved batch's access window now (an agreement ended, a suspected breach, a study called
off): the package is no longer served, and the batch goes on as at any window's end. Before, nothing could stop an
institute's downloads once a batch was approved, until the window chosen at its creation ended."""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState, ClosedReason
from recordings_service.research.lifecycle import expire_due
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.recordings import make_token
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of

REASON = "The processing agreement was terminated"


def ready_batch(session: Session, runtime: Runtime) -> ResearchBatch:
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id))
    session.commit()
    return batch


def end(client: FlaskClient, session: Session, batch: ResearchBatch, reason: str = REASON) -> tuple[int, dict]:
    compliance = {"Authorization": f"Bearer {make_token(session, role='compliance', scope='research')}"}
    answer = client.post(f"/api/v1/research/batches/{batch.id}/end-access", json={"reason": reason}, headers=compliance)
    return answer.status_code, answer.get_json()


def test_a_downloaded_batch_stops_being_served_and_owes_its_confirmation(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch = ready_batch(session, runtime)
    downloaded(session, batch)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    planned = batch.access_end

    status, body = end(client, session, batch)

    assert status == 200, body
    assert (body["state"], body["access_ended_reason"], body["closed_reason"]) == ("expired", REASON, None)
    assert body["access_ended_by"] and datetime.fromisoformat(body["access_end"]) < planned
    assert body["overdue_from"] is not None  # the institute still owes its return or destruction
    served = client.get(f"/api/v1/research/batches/{batch.id}/package", headers={"Authorization": f"Bearer {plain}"})
    assert served.status_code in (403, 404, 409) and served.get_json()["error"]
    partner_headers = {"Authorization": f"Bearer {plain}"}
    [listed] = client.get("/api/v1/research/partner/batches", headers=partner_headers).get_json()["items"]
    assert listed["access_ended_early"] is True and "access_ended_reason" not in listed  # the controller's own
    [ended] = events(session, "research.access_ended", batch.id)
    assert ended.details == {"planned_access_end": planned.isoformat()}


def test_a_batch_nothing_was_downloaded_of_closes_owing_nothing(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch = ready_batch(session, runtime)

    status, body = end(client, session, batch)

    assert status == 200
    assert (body["state"], body["closed_reason"]) == (BatchState.CLOSED, ClosedReason.NEVER_DOWNLOADED)


def test_ending_is_refused_when_there_is_nothing_to_end_and_the_refusal_is_audited(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch = ready_batch(session, runtime)
    blank_status, blank = end(client, session, batch, reason="   ")
    assert (blank_status, blank["field"]) == (422, "reason")
    assert end(client, session, batch)[0] == 200
    over = ready_batch(session, runtime)
    over.access_end = over.access_start  # its window ended; the jobs process has not expired it yet
    drafted = draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id)
    session.commit()

    answers = [end(client, session, each) for each in (batch, over, drafted)]

    assert [(status, body["error"]) for status, body in answers] == [(409, "conflict")] * 3
    refused = events(session, "research.end_access_refused")
    assert [(event.object_id, event.details["rule"]) for event in refused][-3:] == [
        (batch.id, "window_over"),  # closed at once by its window's end: nothing was downloaded
        (over.id, "window_over"),
        (drafted.id, "not_approved"),
    ]


def test_the_batch_page_ends_access_and_says_who_and_why(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch = ready_batch(session, runtime)
    officer = client_of(client.application, make_user(session, role=Role.COMPLIANCE, username="officer.end"))
    page = officer.get(f"/research/batches/{batch.id}").get_data(as_text=True)
    assert "End access now" in page
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    done = officer.post(f"/research/batches/{batch.id}/end-access", data={"reason": REASON, "csrf_token": token})

    assert done.status_code == 302
    shown = officer.get(f"/research/batches/{batch.id}").get_data(as_text=True)
    assert "Access ended early" in shown and "officer.end" in shown and REASON in shown
    assert "End access now" not in shown


def test_ending_an_expired_batch_is_refused_as_its_window_being_over(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """Found by exploratory testing of research custody: the state was checked before the window, so an expired
    batch was refused with rule `not_approved`, where the README says `window_over`."""
    batch = ready_batch(session, runtime)
    downloaded(session, batch)
    batch.access_end = batch.access_start
    expire_due(session, now=utcnow())
    session.commit()
    assert batch.state == BatchState.EXPIRED

    status, body = end(client, session, batch)

    assert status == 409 and "access window ended" in body["message"]
    assert [event.details["rule"] for event in events(session, "research.end_access_refused", batch.id)] == [
        "window_over"
    ]
