"""A role change revokes the account's API tokens, as disabling it does. Found by exploratory testing of the admin's
pages: a token's rights are its scope within the account's role, so a QA supervisor's read token, the account made
compliance, read a restricted call's metadata, and a role changed back revived an evaluation token the change had
stopped."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import accounts, tokens
from recordings_service.audit import Actor
from recordings_service.models import ApiToken
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.audit import events
from tests.factories.recordings import make_recording

ADMIN = Actor(id=None, name="admin-test", role=Role.ADMIN)


def test_a_role_change_revokes_the_accounts_tokens(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    restricted = make_recording(session, store, envelope, restricted=True)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR, password=None)
    read_row, read = tokens.create_token(session, actor=ADMIN, user=supervisor, scope="read")
    _, evaluation = tokens.create_token(session, actor=ADMIN, user=supervisor, scope="evaluation")
    session.commit()
    path = f"/api/v1/recordings/{restricted.id}"
    assert client.get(path, headers={"Authorization": f"Bearer {read}"}).status_code == 404  # compliance's only

    accounts.change_role(session, actor=ADMIN, user_id=supervisor.id, role=Role.COMPLIANCE)
    session.commit()

    assert client.get(path, headers={"Authorization": f"Bearer {read}"}).status_code == 401
    accounts.change_role(session, actor=ADMIN, user_id=supervisor.id, role=Role.QA_SUPERVISOR)
    session.commit()
    assert client.get("/api/v1/forms", headers={"Authorization": f"Bearer {evaluation}"}).status_code == 401
    session.expire_all()
    live = select(ApiToken).where(ApiToken.user_id == supervisor.id, ApiToken.revoked_at.is_(None))
    assert session.scalars(live).all() == []
    assert [event.details for event in events(session, "token.revoked", read_row.id)] == [{"reason": "role_changed"}]
