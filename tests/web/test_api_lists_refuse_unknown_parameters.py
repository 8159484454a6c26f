"""Every list of the API refuses a query parameter it does not know (422 `unknown_field`, naming it), as the call
list and search always did. Found by exploratory testing: `GET /api/v1/subject-requests?customer=cust-X` (a typo for
`customer_ref`) answered 200 with every customer's requests, as did the legal holds', receipts', calibration
sessions' and the training lists' filters typed wrong: an integrator's filter silently read as none."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user

LISTS = {
    "/api/v1/subject-requests?customer=cust-X": Role.COMPLIANCE,
    "/api/v1/legal-holds?is_active=false": Role.COMPLIANCE,
    "/api/v1/retention/receipts?since=2026-01-01": Role.COMPLIANCE,
    "/api/v1/calibration-sessions?state=open": Role.QA_SUPERVISOR,
    "/api/v1/training/nominations?recording=01ARZ3NDEKTSV4RRFFQ69G5FAV": Role.TRAINER,
    "/api/v1/training/clips?recording=01ARZ3NDEKTSV4RRFFQ69G5FAV": Role.TRAINER,
    "/api/v1/training/sets?owner=me": Role.TRAINER,
}


@pytest.mark.parametrize(("path", "role"), LISTS.items(), ids=[path.split("?")[0] for path in LISTS])
def test_a_list_refuses_a_parameter_it_does_not_know(
    client: FlaskClient, session: Session, path: str, role: Role
) -> None:
    login(client, make_user(session, role=role))

    refused = client.get(path)

    assert refused.status_code == 422, refused.get_data(as_text=True)
    body = refused.get_json()
    assert (body["error"], body["field"]) == ("unknown_field", path.split("?")[1].split("=", maxsplit=1)[0])
    assert client.get(path.split("?", maxsplit=1)[0]).status_code == 200  # the list itself is there for this role
