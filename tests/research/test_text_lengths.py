"""Text a batch or an institute keeps in a column of fixed length is refused, 422 naming the field, when it is longer:
found by exploratory testing on PostgreSQL, where a study name of 201 to 2,000 characters (the API took up to 2,000),
an institute's contact e-mail over 254 characters or a reference of its contractual clauses over 200 typed on the
institutes page were a 500 (SQLite kept them whole)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import Institute, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.recordings import make_token
from tests.factories.research import batch_body, institute, research_call

INSTITUTES = "/research/institutes/"
FINNISH = {"Accept-Language": "fi"}


def test_a_study_name_longer_than_a_batch_keeps_is_refused_naming_it(
    client: FlaskClient, officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    lab = institute(session).id
    session.commit()
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}

    refused = client.post("/api/v1/research/batches", json={**batch_body(lab), "study": "s" * 201}, headers=officer)

    assert refused.status_code == 422, refused.json
    assert refused.json["field"] == "study"
    kept = client.post("/api/v1/research/batches", json={**batch_body(lab), "study": "s" * 200}, headers=officer)
    assert kept.status_code == 201, kept.json
    assert session.scalar(select(func.count()).select_from(ResearchBatch)) == 1


def test_the_institutes_page_refuses_a_contact_or_clauses_reference_too_long_in_the_readers_language(
    officer_client: FlaskClient, session: Session
) -> None:
    form = {
        "name": "Boston Service Lab",
        "country": "US",
        "agreement_ref": "DPA-7",
        "agreement_date": "2026-10-01",
        "contact": "lab@example.org",
        "safeguard_kind": "scc",
        "safeguard_reference": "SCC-2021/914",
        "safeguard_date": "2026-10-01",
        "csrf_token": csrf_token(officer_client, INSTITUTES),
    }

    long_reference = officer_client.post(INSTITUTES, data={**form, "safeguard_reference": "r" * 201}, headers=FINNISH)
    long_contact = officer_client.post(
        INSTITUTES, data={**form, "contact": "a" * 250 + "@example.org"}, headers=FINNISH
    )

    assert (long_reference.status_code, long_contact.status_code) == (422, 422)
    assert "1–200 merkkiä" in long_reference.get_data(as_text=True)
    assert "1–254 merkkiä" in long_contact.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Institute)) == 0

    # Recorded later on the institute's row, the reference is refused the same way.
    made = officer_client.post(
        INSTITUTES, data={**form, "safeguard_kind": "", "safeguard_reference": "", "safeguard_date": ""}
    )
    assert made.status_code == 302
    lab = session.scalars(select(Institute)).one()
    later = officer_client.post(
        f"{INSTITUTES}{lab.id}/safeguard",
        data={
            "safeguard_kind": "scc",
            "safeguard_reference": "r" * 201,
            "safeguard_date": "2026-10-01",
            "csrf_token": form["csrf_token"],
        },
        headers=FINNISH,
    )
    assert later.status_code == 422
    assert "1–200 merkkiä" in later.get_data(as_text=True)
    session.refresh(lab)
    assert lab.safeguard_reference is None
