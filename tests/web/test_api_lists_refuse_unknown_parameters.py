"""Every list of the API refuses a query parameter it does not know (422 `unknown_field`, naming it), as the call
list and search always did. Found by exploratory testing: `GET /api/v1/subject-requests?customer=cust-X` (a typo for
`customer_ref`) answered 200 with every customer's requests, as did the legal holds', receipts', calibration
sessions' and the training lists' filters typed wrong: an integrator's filter silently read as none. An API
integrator's review found the same of the lists that take no parameter at all (forms, evaluation plans, retention
policies, a call's annotations): `?queue=billing` on the plans answered every plan, as if it had filtered."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.recordings import make_recording

LISTS = {
    "/api/v1/subject-requests?customer=cust-X": Role.COMPLIANCE,
    "/api/v1/legal-holds?is_active=false": Role.COMPLIANCE,
    "/api/v1/retention/receipts?since=2026-01-01": Role.COMPLIANCE,
    "/api/v1/calibration-sessions?state=open": Role.QA_SUPERVISOR,
    "/api/v1/training/nominations?recording=01ARZ3NDEKTSV4RRFFQ69G5FAV": Role.TRAINER,
    "/api/v1/training/clips?recording=01ARZ3NDEKTSV4RRFFQ69G5FAV": Role.TRAINER,
    "/api/v1/training/sets?owner=me": Role.TRAINER,
    "/api/v1/forms?name=Sales": Role.QA_SUPERVISOR,
    "/api/v1/evaluation-plans?queue=billing": Role.QA_SUPERVISOR,
    "/api/v1/retention/policies?rule=training": Role.COMPLIANCE,
    "/api/v1/audit-events?from=2026-01-01T00:00:00Z": Role.COMPLIANCE,
}


@pytest.mark.parametrize(("path", "role"), LISTS.items(), ids=[path.split("?")[0] for path in LISTS])
def test_a_list_refuses_a_parameter_it_does_not_know(
    client: FlaskClient, session: Session, path: str, role: Role
) -> None:
    login(client, make_user(session, role=role))
    assert_refused(client, path)


def test_a_calls_annotations_refuse_a_parameter_they_do_not_take(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert_refused(client, f"/api/v1/recordings/{call.id}/annotations?author=me")


def assert_refused(client: FlaskClient, path: str) -> None:
    refused = client.get(path)

    assert refused.status_code == 422, refused.get_data(as_text=True)
    body = refused.get_json()
    assert (body["error"], body["field"]) == ("unknown_field", path.split("?")[1].split("=", maxsplit=1)[0])
    assert client.get(path.split("?", maxsplit=1)[0]).status_code == 200  # the list itself is there for this role
