"""What an institute owes once it was sent a batch. Found by review:

- the API's `overdue_from` kept a date on batches that owe nothing any more (closed on an accepted confirmation or
  as never downloaded, or rejected): it is null now, in compliance's and in the partner's shapes;
- a partner could confirm the return or destruction of a batch not one byte of which was downloaded, and compliance
  could accept it, closing the batch as `confirmed`; it is refused now (409 `not_downloaded`, audited), and the
  portal says nothing needs confirming instead of offering the form. Any byte served counts as downloaded, as for
  closing a batch `never_downloaded`."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs.custody import expire_batches
from recordings_service.db import utcnow
from recordings_service.models import CustodyConfirmation, ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.research import batches, confirmations
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, csrf_token, make_user
from tests.factories.audit import events
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_token
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of

FIELDS = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}


def _partner_headers(session: Session, institute_id: str) -> tuple[dict[str, str], User]:
    user = partner(session, institute_id)
    _, plain = create_token(session, actor=SYSTEM, user=user, scope="partner")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}, user


def _confirmed(session: Session, batch: ResearchBatch, officer: User) -> None:
    downloaded(session, batch)
    session.add(
        CustodyConfirmation(
            batch_id=batch.id, method="returned", confirmed_on=utcnow().date(), signer="A", title="B", statement="C"
        )
    )
    session.flush()
    confirmations.accept_confirmation(session, actor=actor_of(officer), batch_id=batch.id)


def test_overdue_from_is_null_once_the_batch_owes_nothing(
    client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    lab = institute(session).id
    still_owed = as_ready(draft(session, runtime, officer, lab, study="Still owed"))
    downloaded(session, still_owed)
    confirmed = as_ready(draft(session, runtime, officer, lab, study="Confirmed"))
    _confirmed(session, confirmed, officer)
    never = as_ready(draft(session, runtime, officer, lab, study="Never downloaded"))
    never.access_end = utcnow() - timedelta(minutes=1)
    rejected = draft(session, runtime, officer, lab, study="Rejected")
    batches.reject_batch(
        session, actor=actor_of(make_user(session, role=Role.COMPLIANCE)), batch_id=rejected.id, reason="no"
    )
    session.commit()
    assert expire_batches(runtime)["closed"] == 1
    compliance = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}
    partner_headers, _ = _partner_headers(session, lab)

    listed = client.get("/api/v1/research/batches", headers=compliance).json["items"]
    one = client.get(f"/api/v1/research/batches/{confirmed.id}", headers=compliance).json
    partners = client.get("/api/v1/research/partner/batches", headers=partner_headers).json["items"]

    owed = {item["study"]: item["overdue_from"] for item in listed}
    assert owed["Still owed"] is not None and owed["Still owed"].endswith("T00:00:00+00:00")
    assert {study: owed[study] for study in ("Confirmed", "Never downloaded", "Rejected")} == dict.fromkeys(
        ("Confirmed", "Never downloaded", "Rejected")
    )
    assert (one["state"], one["closed_reason"], one["overdue_from"]) == ("closed", "confirmed", None)
    assert {item["study"]: item["overdue_from"] for item in partners} == {
        "Still owed": owed["Still owed"],
        "Confirmed": None,
        "Never downloaded": None,
    }


def test_a_batch_never_downloaded_cannot_be_confirmed_returned_or_destroyed(
    client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab))
    headers, user = _partner_headers(session, lab)
    confirm = f"/api/v1/research/batches/{made.id}/confirmation"

    refused = client.post(confirm, data={**FIELDS, "date": utcnow().date().isoformat()}, headers=headers)

    assert refused.status_code == 409, refused.json
    assert refused.json["error"] == "not_downloaded"
    assert "nothing" in refused.json["message"] and "was downloaded" in refused.json["message"]
    assert "closes by itself" in refused.json["message"] and "access window" in refused.json["message"]
    assert [(event.actor_id, event.details) for event in events(session, "research.confirmation_refused", made.id)] == [
        (user.id, {"rule": "not_downloaded"})
    ]
    assert session.scalar(select(func.count()).select_from(CustodyConfirmation)) == 0

    downloaded(session, made, start=5000)  # a range not from the start: the institute may hold a copy
    session.commit()
    sent = client.post(confirm, data={**FIELDS, "date": utcnow().date().isoformat()}, headers=headers)
    assert sent.status_code == 201, sent.json


def test_the_portal_offers_no_confirmation_of_a_batch_never_downloaded(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab))
    session.commit()
    page_client = client_of(app, partner(session, lab))
    path = f"/partner/batches/{made.id}"

    page = page_client.get(path).get_data(as_text=True)
    # A page loaded before, or a crafted form: refused with the reason, the refusal audited.
    data = {**FIELDS, "confirmed_on": utcnow().date().isoformat(), "csrf_token": csrf_token(page_client, path)}
    refused = page_client.post(f"{path}/confirmation", data=data, content_type="multipart/form-data")

    assert "Send the confirmation" not in page and f"{path}/confirmation" not in page
    assert "Nothing of this batch has been downloaded, so there is nothing to return or destroy." in page
    answer = refused.get_data(as_text=True)
    # A conflict, as the API answers it (the page said 422).
    assert refused.status_code == 409 and "Your confirmation was not sent: nothing of this batch" in answer
    assert "Send the confirmation" not in answer
    assert len(events(session, "research.confirmation_refused", made.id)) == 1

    downloaded(session, made)
    session.commit()
    assert "Send the confirmation" in page_client.get(path).get_data(as_text=True)


def test_a_confirmation_refused_for_the_batchs_state_is_audited_too(
    client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    """Found in review: only the `not_downloaded` refusal was on the batch's trail; a partner's confirmation of a
    closed batch, or of one whose confirmation awaits compliance, left no event."""
    lab = institute(session).id
    closed = as_ready(draft(session, runtime, officer, lab, study="Closed"))
    _confirmed(session, closed, officer)
    awaiting = as_ready(draft(session, runtime, officer, lab, study="Awaiting"))
    downloaded(session, awaiting)
    session.add(
        CustodyConfirmation(
            batch_id=awaiting.id, method="returned", confirmed_on=utcnow().date(), signer="A", title="B", statement="C"
        )
    )
    headers, user = _partner_headers(session, lab)
    body = {**FIELDS, "date": utcnow().date().isoformat()}

    for batch, rule in ((closed, "not_confirmable"), (awaiting, "confirmation_pending")):
        refused = client.post(f"/api/v1/research/batches/{batch.id}/confirmation", data=body, headers=headers)
        assert refused.status_code == 409, refused.json
        assert [
            (event.actor_id, event.details) for event in events(session, "research.confirmation_refused", batch.id)
        ] == [(user.id, {"rule": rule})]
    assert session.scalar(select(func.count()).select_from(CustodyConfirmation)) == 2  # the two made above
