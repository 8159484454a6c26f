"""A refused request for a recording hidden from its actor leaves exactly one audit event, on every route.

The routes are walked from the URL map, as the access matrix does, so a route added later is covered
without being listed here. Each is requested by a role that holds the route's permission but may not
see restricted recordings (GDPR Art. 18), so only the object-level rule can refuse it.
"""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from recordings_service.evaluations import scoring
from recordings_service.models import AuditEvent, Recording
from recordings_service.models.account import Role
from recordings_service.permissions import allowed
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import answers, make_evaluator, published_form
from tests.factories.recordings import make_recording
from tests.routes import RULES
from web import access

# Roles that may never see a restricted recording, in the order a route's requester is picked.
NON_COMPLIANCE_ROLES = [role for role in Role if role != Role.COMPLIANCE]
# Enough form input for every state-changing route to get as far as loading its recording.
FORM = {"at_s": "1.5", "text": "a note", "segment": ""}

RECORDING_RULES = [rule for rule in RULES if "recording_id" in rule.arguments]


def refusals(session: Session, object_id: str) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.object_id == object_id)
    return session.scalar(query.where(AuditEvent.action == "recording.access_denied")) or 0


def requester_role(app: Flask, rule: Rule) -> Role | None:
    permission = access.declared_permission(app, rule.endpoint)
    assert permission is not None
    return next((role for role in NON_COMPLIANCE_ROLES if allowed(role=role, permission=permission)), None)


def request_for(app: Flask, client: FlaskClient, rule: Rule, **arguments: str) -> int:
    with app.test_request_context():
        path = url_for(rule.endpoint, **arguments)
    methods = rule.methods or set()
    if "GET" in methods:
        response = client.get(path)
    else:
        response = client.open(path, method=sorted(methods - {"HEAD", "OPTIONS"})[0], data=FORM)
    response.get_data()
    response.close()
    return response.status_code


def test_routes_taking_a_recording_id_are_found() -> None:
    endpoints = {rule.endpoint for rule in RECORDING_RULES}
    assert {"recordings_api.get_recording", "call_page.call", "call_page.export_evidence"} <= endpoints


@pytest.mark.parametrize("rule", RECORDING_RULES, ids=lambda rule: rule.endpoint)
def test_a_refused_restricted_recording_leaves_one_audit_event(
    rule: Rule, app: Flask, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    app.config.update(WTF_CSRF_ENABLED=False)  # the object-level refusal is under test, not CSRF (restored after)
    role = requester_role(app, rule)
    if role is None:
        pytest.skip(f"{rule.endpoint} is for compliance only, who may see restricted recordings")
    recording = make_recording(session, store, envelope, restricted=True)
    client = app.test_client()
    login(client, make_user(session, role=role))

    status = request_for(app, client, rule, recording_id=recording.id)

    assert status == 404
    assert refusals(session, recording.id) == 1


def test_an_evaluation_of_a_restricted_recording_is_refused_once(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    evaluator = make_evaluator(session)
    recording: Recording = make_recording(session, store, envelope)
    form = published_form(session, make_evaluator(session, Role.ADMIN))
    evaluation = scoring.evaluate_call(
        session,
        actor=evaluator,
        recording_id=recording.id,
        form_id=form.id,
        answers=answers(form, ["yes", "4", "yes"]),
        comment="",
    )
    recording.restricted = True
    session.flush()
    client = app.test_client()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    assert client.get(f"/evaluations/{evaluation.id}").status_code == 404
    assert refusals(session, recording.id) == 1
