"""A set's page opened with an export that has expired (a bookmark, a link sent to a colleague) says so and offers
no download (found by exploratory testing: it still said "Download the set (ZIP) valid until" a day gone by,
and the link answered 409 `export_expired`)."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import User
from recordings_service.runtime import Runtime
from recordings_service.training import export, sets
from recordings_service.training_rules import TrainingRules
from tests.factories.evaluations import actor_of


def test_an_expired_export_is_shown_as_expired_without_a_download(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    actor = actor_of(trainer)
    made = sets.create_set(session, runtime.envelope, actor=actor, title="Openings", rules=TrainingRules()).made
    old = export.export_set(session, actor=actor, set_id=made.id, now=utcnow() - timedelta(days=8))
    current = export.export_set(session, actor=actor, set_id=made.id)
    session.commit()

    page = trainer_client.get(f"/training/sets/{made.id}", query_string={"export": old.id}).get_data(as_text=True)

    assert f"/api/v1/training/exports/{old.id}/download" not in page and "valid until" not in page
    assert "This export expired" in page and "export the set again" in page
    page = trainer_client.get(f"/training/sets/{made.id}", query_string={"export": current.id}).get_data(as_text=True)
    assert f"/api/v1/training/exports/{current.id}/download" in page and "valid until" in page
    assert "This export expired" not in page
