"""Page clients signed in as staff: `client_of` for anyone, and fixtures for a compliance officer and a trainer
(a plugin of tests/conftest.py, so every test module has them; a module's own fixture of the same name wins)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user


def client_of(app: Flask, user: User) -> FlaskClient:
    """A client of its own, signed in as `user` (several people on one page each need one)."""
    client = app.test_client()
    login(client, user)
    return client


@pytest.fixture
def officer(session: Session) -> User:
    return make_user(session, role=Role.COMPLIANCE)


@pytest.fixture
def officer_client(app: Flask, officer: User) -> FlaskClient:
    return client_of(app, officer)


@pytest.fixture
def trainer(session: Session) -> User:
    return make_user(session, role=Role.TRAINER)


@pytest.fixture
def trainer_client(app: Flask, trainer: User) -> FlaskClient:
    return client_of(app, trainer)
