"""'Select the calls' sent twice (a double click, or the form sent again) makes one draft batch, not two: the
same officer's identical draft of the last minutes is the answer to the second submission."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.research import batches
from recordings_service.resubmission import RESENT_WITHIN
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token, make_user
from tests.factories.audit import events
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_token
from tests.factories.research import batch_body, institute, research_call
from tests.factories.staff import client_of

NEW_BATCH = "/research/batches/new"


def _form(session: Session, runtime: Runtime) -> dict[str, str]:
    for _ in range(3):
        research_call(session, runtime.store, runtime.envelope)
    lab = institute(session)
    session.commit()
    today = utcnow().date()
    return {
        "study": "Estimated bills",
        "purpose": "How agents explain estimated bills",
        "institute_id": lab.id,
        "from": "2026-11-01",
        "to": "2026-11-30",
        "sample_size": "10",
        "seed": "42",
        "study_end": (today + timedelta(days=200)).isoformat(),
        "access_start": f"{today.isoformat()}T08:00",
        "access_end": f"{(today + timedelta(days=30)).isoformat()}T16:00",
        "audio": "redacted",
    }


def _drafts(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ResearchBatch)) or 0


def test_the_selection_form_sent_twice_makes_one_draft(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    form = _form(session, runtime)
    data = {**form, "csrf_token": csrf_token(officer_client, NEW_BATCH), "metadata_fields": ["queue", "language"]}

    first = officer_client.post(NEW_BATCH, data=data)
    second = officer_client.post(NEW_BATCH, data=data)

    assert first.status_code == second.status_code == 302, second.get_data(as_text=True)
    assert first.headers["Location"] == second.headers["Location"]
    assert _drafts(session) == 1
    (made,) = session.scalars(select(ResearchBatch)).all()
    assert len(events(session, "research.batch_created", made.id)) == 1
    page = officer_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "3 calls selected, 0 excluded" in page

    # Anything different is another batch: another seed draws another sample.
    third = officer_client.post(NEW_BATCH, data={**data, "seed": "43"})
    assert third.status_code == 302 and third.headers["Location"] != first.headers["Location"]
    assert _drafts(session) == 2


def test_a_draft_is_reused_only_by_its_creator_while_it_is_a_fresh_draft(
    app: Flask, officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    form = _form(session, runtime)
    data = {**form, "csrf_token": csrf_token(officer_client, NEW_BATCH)}
    first = officer_client.post(NEW_BATCH, data=data)
    assert first.status_code == 302
    (made,) = session.scalars(select(ResearchBatch)).all()

    colleague = client_of(app, make_user(session, role=Role.COMPLIANCE))
    theirs = colleague.post(NEW_BATCH, data={**form, "csrf_token": csrf_token(colleague, NEW_BATCH)})
    assert theirs.status_code == 302 and theirs.headers["Location"] != first.headers["Location"]
    assert _drafts(session) == 2

    # Rejected, the draft is no answer to the same form: a new draft is made.
    second_officer = actor_of(make_user(session, role=Role.COMPLIANCE))
    batches.reject_batch(session, actor=second_officer, batch_id=made.id, reason="not this way")
    session.commit()
    again = officer_client.post(NEW_BATCH, data=data)
    assert again.status_code == 302 and again.headers["Location"] != first.headers["Location"]
    assert _drafts(session) == 3

    # Nor is one made longer ago than a double submission takes.
    latest = session.scalars(select(ResearchBatch).order_by(ResearchBatch.id.desc())).first()
    assert latest is not None
    latest.created_at = utcnow() - RESENT_WITHIN - timedelta(seconds=1)
    session.commit()
    assert officer_client.post(NEW_BATCH, data=data).status_code == 302
    assert _drafts(session) == 4


def test_the_api_answers_a_repeated_selection_with_the_draft_in_force(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """Found by exploratory testing: a script's retry of `POST /api/v1/research/batches` (its first answer lost)
    made a second draft of the same calls, which a second officer could approve beside the first: two packages of
    one selection. The same request by the same user now answers 200 with their draft, and records nothing."""
    for _ in range(3):
        research_call(session, runtime.store, runtime.envelope)
    lab = institute(session).id
    session.commit()
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}
    body = batch_body(lab)

    first = client.post("/api/v1/research/batches", json=body, headers=officer)
    second = client.post("/api/v1/research/batches", json=body, headers=officer)

    assert (first.status_code, second.status_code) == (201, 200), second.json
    assert second.json == first.json
    assert _drafts(session) == 1
    assert len(events(session, "research.batch_created", first.json["id"])) == 1

    # Another seed, or another officer, is another batch; so is the same request once the draft was decided.
    other = client.post(
        "/api/v1/research/batches", json={**body, "criteria": {**body["criteria"], "seed": 8}}, headers=officer
    )
    colleague = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}
    theirs = client.post("/api/v1/research/batches", json=body, headers=colleague)
    assert (other.status_code, theirs.status_code) == (201, 201)
    assert _drafts(session) == 3
    client.post(f"/api/v1/research/batches/{first.json['id']}/reject", json={"reason": "no"}, headers=colleague)
    again = client.post("/api/v1/research/batches", json=body, headers=officer)
    assert again.status_code == 201 and again.json["id"] != first.json["id"]
