"""What people can type into the pages' forms and filters at the edges: digits `int` refuses, dates where day
arithmetic overflows, a customer reference that is blank or longer than the column. Found by exploratory testing
(each was a 500, or stored what the API refuses); each is now refused naming the field."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import Customer, LegalHold, RetentionPolicy, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.recordings import make_recording

SUPERSCRIPT_TWO = "\u00b2"  # "²": str.isdigit() says yes, int() says no


def test_a_policy_period_in_digits_int_refuses_is_a_422(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    for keep in (SUPERSCRIPT_TWO, "9" * 5000):
        preview = post_form(
            client,
            "/compliance/policies/training",
            {"keep": keep, "unit": "months", "basis": "b"},
            token_from="/compliance/",
        )
        assert preview.status_code == 422 and "give a whole number" in preview.get_data(as_text=True)


def test_a_policy_basis_longer_than_the_apis_is_refused(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    applied = post_form(
        client,
        "/compliance/policies/training/apply",
        {"keep": "6", "unit": "months", "basis": "x" * 100_000},
        token_from="/compliance/",
    )
    # Refused, the policy page comes back with the change as typed and why (it was a redirect to the preview form).
    assert applied.status_code == 422 and "at most 2000 characters" in applied.get_data(as_text=True)
    session.expire_all()
    assert len(session.get_one(RetentionPolicy, "training").basis) <= 2000


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "score_min=nan", "score_max=inf"])
def test_the_call_list_refuses_dates_and_numbers_beyond_reach(
    client: FlaskClient, session: Session, query: str
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get(f"/calls/?{query}")
    assert page.status_code == 422, page.get_data(as_text=True)[:300]


def test_a_segment_number_in_digits_int_refuses_is_a_422(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope, status="transcribed")
    session.commit()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    path = f"/calls/{call.id}"
    refused = post_form(client, f"{path}/verify", {"segment": SUPERSCRIPT_TWO}, token_from=path)
    assert refused.status_code == 422


@pytest.mark.parametrize("ref", ["", "   ", "C" * 101])
def test_a_blank_or_overlong_customer_reference_registers_nothing(
    client: FlaskClient, session: Session, ref: str
) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    customers = session.scalar(select(func.count()).select_from(Customer))
    requests = session.scalar(select(func.count()).select_from(SubjectRequest))
    holds = session.scalar(select(func.count()).select_from(LegalHold))
    request_form = {"customer_ref": ref, "kind": "access", "received_on": "2026-11-30"}
    post_form(client, "/subjects/", request_form, token_from="/subjects/")
    hold_form = {"target": "customer", "value": ref, "reason": "dispute"}
    post_form(client, "/compliance/holds", hold_form, token_from="/compliance/holds")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Customer)) == customers
    assert session.scalar(select(func.count()).select_from(SubjectRequest)) == requests
    assert session.scalar(select(func.count()).select_from(LegalHold)) == holds
