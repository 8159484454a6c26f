"""An objection to research made after the institute downloaded the customer's calls is a follow-up request on
the batch, as an erasure request is: the partner sees it and acknowledges it, and compliance sees it outstanding
until then (who acknowledged it, and when, after).

Found by review: such an objection showed on the compliance page (`objections`) but was not in the batch's
`follow_up`, and nothing told the partner; erasure flags, too, reached the institute only if compliance relayed
them by hand, with nothing to show the institute had them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import BatchItem, User
from recordings_service.privacy.restriction import restrict_processing
from recordings_service.privacy.subjects import create_request, record_objection
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, post_form
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call
from tests.factories.staff import client_of


def objects(session: Session, customer_ref: str) -> None:
    request = create_request(session, actor=OFFICER, customer_ref=customer_ref, kind="objection", received_at=utcnow())
    record_objection(session, actor=OFFICER, request_id=request.id, research=True, marketing=None)


def test_an_objection_after_the_download_is_a_follow_up_the_partner_acknowledges(
    app: Flask, client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    person, other = customer(session), customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    research_call(session, runtime.store, runtime.envelope, customer_id=other.id)
    held = as_ready(draft(session, runtime, officer, institute(session).id))
    not_taken = as_ready(draft(session, runtime, officer, institute(session).id, study="Not downloaded"))
    downloaded(session, held)
    reader = partner(session, held.institute_id)
    _, plain = create_token(session, actor=SYSTEM, user=reader, scope="partner")
    session.commit()
    [pseudonym] = {item.customer_pseudonym for item in held_items(session, held.id) if item.customer_id == person.id}

    objects(session, person.customer_ref)
    session.commit()

    lab = {"Authorization": f"Bearer {plain}"}
    staff = client_of(app, officer)
    [flag] = staff.get(f"/api/v1/research/batches/{held.id}").json["follow_up"]
    assert (flag["kind"], flag["customer_pseudonyms"], flag["acknowledged_at"]) == ("objection", [pseudonym], None)
    assert flag["request_id"] and flag["number"] == 1
    assert staff.get(f"/api/v1/research/batches/{not_taken.id}").json["follow_up"] == []  # rebuilt without it
    assert [e.object_id for e in events(session, "research.objection_follow_up")] == [held.id]
    page = staff.get(f"/research/batches/{held.id}").get_data(as_text=True)
    assert "not yet acknowledged by the institute" in page and pseudonym in page
    waiting = "1 follow-up request not yet acknowledged by the institute"
    assert staff.get("/research/").get_data(as_text=True).count(waiting) == 1

    [listed] = [
        b for b in client.get("/api/v1/research/partner/batches", headers=lab).json["items"] if b["id"] == held.id
    ]
    [seen] = listed["follow_up"]
    assert "request_id" not in seen and seen["kind"] == "objection" and seen["customer_pseudonyms"] == [pseudonym]
    answered = client.post(seen["acknowledge"], headers=lab)
    assert answered.status_code == 200, answered.json
    assert answered.json["follow_up"][0]["acknowledged_by"] == reader.username
    assert answered.json["follow_up"][0]["acknowledge"] is None
    assert client.post(seen["acknowledge"], headers=lab).status_code == 200  # again: nothing changes
    assert client.post(seen["acknowledge"].replace("/1/", "/2/"), headers=lab).status_code == 404

    [flag] = staff.get(f"/api/v1/research/batches/{held.id}").json["follow_up"]
    assert flag["acknowledged_by"] == reader.username and flag["acknowledged_at"] is not None
    assert [e.details for e in events(session, "research.follow_up_acknowledged", held.id)] == [
        {"number": 1, "kind": "objection"}
    ]
    page = staff.get(f"/research/batches/{held.id}").get_data(as_text=True)
    assert "not yet acknowledged by the institute" not in page and f"acknowledged by {reader.username}" in page
    assert waiting not in staff.get("/research/").get_data(as_text=True)


def test_the_partner_portal_lists_requests_to_act_on_and_takes_the_acknowledgement(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    held = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, held)
    reader = partner(session, held.institute_id)
    create_request(session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow())
    objects(session, person.customer_ref)
    session.commit()
    portal = client_of(app, reader)
    url = f"/partner/batches/{held.id}"

    page = portal.get(url).get_data(as_text=True)

    assert "Requests to act on" in page and page.count("Acknowledge</button>") == 2
    assert "Erasure request" in page and "Objection to research" in page
    answered = post_form(portal, f"{url}/follow-up/2/acknowledge", {}, token_from=url)
    assert answered.status_code == 302
    answered = portal.get(url)
    page = answered.get_data(as_text=True)
    assert page.count("Acknowledge</button>") == 1 and f"Acknowledged by {reader.username}" in page


def held_items(session: Session, batch_id: str) -> list[BatchItem]:
    return list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch_id)))


def test_a_restriction_after_the_download_is_passed_on_to_the_institute(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    """Found by exploratory testing: Art. 19 has the controller tell each recipient of a restriction of processing,
    as of an erasure; a restriction after the institute downloaded the customer's calls reached nobody."""
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    held = as_ready(draft(session, runtime, officer, institute(session).id))
    not_taken = as_ready(draft(session, runtime, officer, institute(session).id, study="Not downloaded"))
    downloaded(session, held)
    request = create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
    )

    restrict_processing(session, actor=OFFICER, request_id=request.id)
    session.commit()

    staff = client_of(app, officer)
    [flag] = staff.get(f"/api/v1/research/batches/{held.id}").json["follow_up"]
    assert (flag["kind"], flag["request_id"], flag["acknowledged_at"]) == ("restriction", request.id, None)
    assert staff.get(f"/api/v1/research/batches/{not_taken.id}").json["follow_up"] == []  # rebuilt without it
    page = client_of(app, partner(session, held.institute_id)).get(f"/partner/batches/{held.id}")
    assert "Restriction of processing" in page.get_data(as_text=True)
