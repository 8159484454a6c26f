"""A script that filters a research list by a parameter the list does not take (`?status=closed` where the list's
filter is `state`) is told so, 422 `unknown_field` naming it, as every other list answers: found by review, the
batch lists answered 200 unfiltered, and the script took every batch for the closed ones."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.research import as_ready, draft, institute, partner


def _bearer(session: Session, user_role: Role | None, scope: str, institute_id: str) -> dict[str, str]:
    user = partner(session, institute_id) if user_role is None else make_user(session, role=user_role)
    _, plain = create_token(session, actor=SYSTEM, user=user, scope=scope)
    return {"Authorization": f"Bearer {plain}"}


def test_research_lists_refuse_a_parameter_they_do_not_take(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    lab = institute(session)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), lab.id))
    officer = _bearer(session, Role.COMPLIANCE, "research", lab.id)
    lab_script = _bearer(session, None, "partner", lab.id)
    session.commit()

    for path, headers in (
        ("/api/v1/research/batches", officer),
        ("/api/v1/research/partner/batches", lab_script),
        ("/api/v1/research/institutes", officer),
        (f"/api/v1/recordings/{batch.id}/custody", officer),
        ("/api/v1/customers/C-1/custody", officer),
    ):
        refused = client.get(f"{path}?status=closed", headers=headers)
        assert refused.status_code == 422, (path, refused.status_code, refused.json)
        assert (refused.json["error"], refused.json["field"]) == ("unknown_field", "status"), path

    # What the lists do take still works.
    listed = client.get("/api/v1/research/batches?state=ready&limit=5", headers=officer)
    assert listed.status_code == 200 and [item["id"] for item in listed.json["items"]] == [batch.id]
    assert client.get("/api/v1/research/partner/batches?limit=5", headers=lab_script).status_code == 200
    assert client.get("/api/v1/research/institutes", headers=officer).status_code == 200
