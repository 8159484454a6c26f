"""Applying a retention policy as it stands changes nothing, and the trail says what a change did change.

Found by exploratory testing: `PUT /api/v1/retention/policies/training` with the policy's own values, or the change
form applied twice, wrote `retention.policy_changed` ("12 months" → "12 months") and stamped the policy as changed
by that officer just now, the page saying "Policy training changed"; and a change of the basis alone was audited
with nothing to tell it from no change at all.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, RetentionPolicy
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form
from tests.factories.recordings import make_token


def changes(session: Session) -> list[dict[str, object]]:
    query = select(AuditEvent.details).where(AuditEvent.action == "retention.policy_changed").order_by(AuditEvent.seq)
    return list(session.scalars(query))


def test_the_api_audits_a_change_once_and_names_what_changed(client: FlaskClient, session: Session) -> None:
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    body = {"keep": 12, "unit": "months", "basis": "Training of agents on recent calls."}
    first = client.put("/api/v1/retention/policies/training", json=body, headers=officer)
    assert first.status_code == 200, first.json
    again = client.put("/api/v1/retention/policies/training", json=body, headers=officer)
    assert again.status_code == 200 and again.json == first.json  # updated_at and updated_by as they were
    assert changes(session) == [{"previous": "12 months", "period": "12 months", "changed": ["basis"], "recomputed": 0}]
    longer = client.put(
        "/api/v1/retention/policies/training", json={**body, "keep": 400, "unit": "days"}, headers=officer
    )
    assert longer.status_code == 200
    assert changes(session)[-1]["changed"] == ["keep", "unit"]


def test_the_change_form_applied_twice_says_the_second_time_changed_nothing(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    form = {"keep": "6", "unit": "months", "basis": "Six months is enough for training."}
    first = post_form(client, "/compliance/policies/training/apply", form, token_from="/compliance/")
    assert first.status_code == 302
    assert "Policy training changed" in client.get("/compliance/").get_data(as_text=True)
    session.expire_all()
    stamped = session.get_one(RetentionPolicy, "training").updated_at

    again = post_form(client, "/compliance/policies/training/apply", form, token_from="/compliance/")
    assert again.status_code == 302
    page = client.get("/compliance/").get_data(as_text=True)
    assert "No change: policy training already keeps calls for 6 months on that basis." in page
    assert "Policy training changed" not in page
    session.expire_all()
    assert session.get_one(RetentionPolicy, "training").updated_at == stamped
    assert len(changes(session)) == 1
