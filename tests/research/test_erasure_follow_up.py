"""An erasure request flags only the batches whose package with the customer's calls the institute downloaded, as an
objection or a restriction does; and the batch's page lists an objection once.

Found by review: an erasure request flagged a batch never downloaded too (its package is built again without the
call, so the institute never receives it), and the partner was shown a flag naming a call it would never get; an
objection after the download was listed twice on the batch's page (its follow-up and `objections`)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import User
from recordings_service.privacy.subjects import create_request, record_objection
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, research_call
from tests.factories.staff import client_of


def test_an_erasure_request_flags_only_the_batch_whose_package_was_downloaded(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    held = as_ready(draft(session, runtime, officer, institute(session).id))
    not_taken = as_ready(draft(session, runtime, officer, institute(session).id, study="Not downloaded"))
    downloaded(session, held)
    session.commit()

    request = create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow()
    )
    session.commit()

    staff = client_of(app, officer)
    [flag] = staff.get(f"/api/v1/research/batches/{held.id}").json["follow_up"]
    assert (flag["kind"], flag["request_id"]) == ("erasure", request.id)
    assert staff.get(f"/api/v1/research/batches/{not_taken.id}").json["follow_up"] == []  # rebuilt without it
    assert [e.object_id for e in events(session, "research.erasure_follow_up")] == [held.id]


def test_an_objection_after_the_download_is_listed_once_on_the_batch_page(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    held = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, held)
    session.commit()
    request = create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="objection", received_at=utcnow()
    )
    record_objection(session, actor=OFFICER, request_id=request.id, research=True, marketing=None)
    session.commit()
    staff = client_of(app, officer)

    shown = staff.get(f"/api/v1/research/batches/{held.id}").json
    page = staff.get(f"/research/batches/{held.id}").get_data(as_text=True)

    [flag] = shown["follow_up"]
    [pseudonym] = flag["customer_pseudonyms"]
    assert shown["objections"] == [pseudonym]  # the API's field stays as it was
    assert page.count(pseudonym) == 1 and "Objections to pass on to the institute" not in page
