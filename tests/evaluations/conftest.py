"""Fixtures the evaluation tests share: a QA supervisor, and a form they published."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from recordings_service.models import EvaluationForm, User
from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, published_form


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR)


@pytest.fixture
def form(session: Session, supervisor: User) -> EvaluationForm:
    return published_form(session, actor_of(supervisor))
