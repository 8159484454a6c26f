"""A call that may no longer go out for a reason other than its customer's request (a rectification taking back its
notice, a retention change, card data found, the call deleted), in a package the institute downloaded, is flagged for
follow-up by the jobs process: the institute is told which call to return or destroy, not why, and compliance sees it
outstanding.

Found by exploratory testing of research custody: such a package was only refused (409 `outdated_downloaded`); no
follow-up named the call, and compliance saw nothing outstanding, though the README said it was flagged."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.db import utcnow
from recordings_service.models import BatchItem, User
from recordings_service.privacy.subjects import create_request
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call
from tests.factories.staff import client_of


def test_a_call_rectified_after_the_download_is_flagged_once_by_call(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    rectified = research_call(session, runtime.store, runtime.envelope, customer_id=customer(session).id)
    eraser = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=eraser.id)
    batch = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, batch)
    create_request(session, actor=OFFICER, customer_ref=eraser.customer_ref, kind="erasure", received_at=utcnow())
    rectified.notice_given = False  # a rectification: the caller was not told of the recording after all
    session.commit()
    [item] = session.scalars(select(BatchItem).where(BatchItem.recording_id == rectified.id))

    research_jobs.build_batches(runtime)
    research_jobs.build_batches(runtime)  # a second run flags nothing more

    staff = client_of(app, officer)
    flags = staff.get(f"/api/v1/research/batches/{batch.id}").json["follow_up"]
    assert [flag["kind"] for flag in flags] == ["erasure", "withdrawn"]  # the erasure's call is not named again
    assert (flags[1]["call_pseudonyms"], flags[1]["reasons"]) == ([item.call_pseudonym], ["notice_not_given"])
    assert flags[1]["acknowledge"] is not None and flags[0]["call_pseudonyms"] == []
    assert [event.details for event in events(session, "research.withdrawn_follow_up", batch.id)] == [{"calls": 1}]
    assert "the caller was not told of the recording" in staff.get(f"/research/batches/{batch.id}").get_data(
        as_text=True
    )
    lab = client_of(app, partner(session, batch.institute_id))
    [shown] = lab.get("/api/v1/research/partner/batches").json["items"]
    assert shown["follow_up"][1]["call_pseudonyms"] == [item.call_pseudonym] and "reasons" not in shown["follow_up"][1]
    page = lab.get(f"/partner/batches/{batch.id}").get_data(as_text=True)
    assert f"return or destroy calls {item.call_pseudonym} (the organisation withdrew them from the study)" in page
    assert "told of the recording" not in page and page.count("Acknowledge</button>") == 2
