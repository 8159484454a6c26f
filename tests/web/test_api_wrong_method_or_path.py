"""A request for no route, or with a method its route does not take, is answered 404 or 405 (with `Allow`), in the
API's error shape, with or without a token. Found by exploratory testing: without a token, `PUT /api/v1/recordings`
and `POST /api/v1/nonexistent` answered 400 "The CSRF token is missing.", and a 405 never said which methods the
path takes."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories.recordings import make_token


@pytest.mark.parametrize("with_token", [False, True], ids=["no-token", "token"])
def test_no_such_route_or_method_is_404_or_405_in_the_apis_shape(
    client: FlaskClient, session: Session, with_token: bool
) -> None:
    headers = (
        {"Authorization": f"Bearer {make_token(session, role='qa_supervisor', scope='read')}"} if with_token else {}
    )

    missing = client.post("/api/v1/nonexistent", json={}, headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"

    for method, path in (("PUT", "/api/v1/recordings"), ("DELETE", "/api/v1/recordings/01ARZ3NDEKTSV4RRFFQ69G5FAV")):
        wrong = client.open(path, method=method, json={}, headers=headers)
        assert wrong.status_code == 405, (method, wrong.get_data(as_text=True))
        assert wrong.get_json()["error"] == "method_not_allowed" and wrong.mimetype == "application/json"
        assert "GET" in {allowed.strip() for allowed in wrong.headers["Allow"].split(",")}, method
