"""A research batch's pseudonyms are forgotten with its key, once it is closed (confirmed, never downloaded) or
rejected: its items' and its follow-ups'. Found reviewing custody: the key was destroyed while every pseudonym it
made stayed with the batch's items, so a copy the institute kept could still be linked back to its calls, customers
and agents without it; a batch still open keeps them (its follow-ups name them to the institute)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.custody import expire_batches
from recordings_service.db import utcnow
from recordings_service.models import BatchItem, CustodyConfirmation, ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.privacy.subjects import create_request, record_objection
from recordings_service.research import batches, confirmations
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call
from tests.factories.staff import client_of


def _pseudonyms(session: Session, batch: ResearchBatch) -> list[tuple[str | None, str | None, str | None]]:
    session.expire_all()
    rows = session.execute(
        select(BatchItem.call_pseudonym, BatchItem.customer_pseudonym, BatchItem.agent_pseudonym).where(
            BatchItem.batch_id == batch.id
        )
    )
    return [tuple(row) for row in rows]


def test_a_closed_or_rejected_batch_forgets_its_pseudonyms_and_an_open_one_keeps_them(
    app: Flask, session: Session, runtime: Runtime, officer: User
) -> None:
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    lab = institute(session).id
    confirmed = as_ready(draft(session, runtime, officer, lab, study="Confirmed"))
    downloaded(session, confirmed)
    still_open = as_ready(draft(session, runtime, officer, lab, study="Open"))
    downloaded(session, still_open)
    never = as_ready(draft(session, runtime, officer, lab, study="Never downloaded"))
    never.access_end = utcnow() - timedelta(minutes=1)
    rejected = draft(session, runtime, officer, lab, study="Rejected")
    objection = create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="objection", received_at=utcnow()
    )
    record_objection(session, actor=OFFICER, request_id=objection.id, research=True, marketing=False)
    assert [flag["customer_pseudonyms"] != [] for flag in confirmed.follow_up] == [True]
    session.add(
        CustodyConfirmation(
            batch_id=confirmed.id, method="returned", confirmed_on=utcnow().date(), signer="A", title="B", statement="C"
        )
    )
    session.flush()
    second_officer = actor_of(make_user(session, role=Role.COMPLIANCE))
    confirmations.accept_confirmation(session, actor=second_officer, batch_id=confirmed.id)
    batches.reject_batch(session, actor=second_officer, batch_id=rejected.id, reason="not needed")
    session.commit()
    assert expire_batches(runtime)["closed"] == 1

    for ended in (confirmed, never, rejected):
        assert _pseudonyms(session, ended) and set(_pseudonyms(session, ended)) == {(None, None, None)}, ended.study
    assert all(call and agent for call, _, agent in _pseudonyms(session, still_open))
    flags = session.get_one(ResearchBatch, confirmed.id).follow_up
    assert [(flag["kind"], flag["customer_pseudonyms"]) for flag in flags] == [("objection", [])]
    assert [flag["customer_pseudonyms"] != [] for flag in session.get_one(ResearchBatch, still_open.id).follow_up] == [
        True
    ]
    partner_page = client_of(app, partner(session, lab)).get(f"/partner/batches/{confirmed.id}").text
    compliance_page = client_of(app, officer).get(f"/research/batches/{confirmed.id}").text
    for page in (partner_page, compliance_page):
        assert "(pseudonyms forgotten when the batch closed)" in page
