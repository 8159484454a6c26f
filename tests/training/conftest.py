"""The trainers' API as the training tests drive it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.recordings import make_token
from tests.factories.training import bearer


@pytest.fixture
def api(client: FlaskClient, session: Session) -> tuple[FlaskClient, dict[str, str], User]:
    """The API client, a trainer's token and the trainer it is for."""
    token = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    author = session.scalars(select(User).where(User.role == Role.TRAINER)).one()
    return client, token, author
