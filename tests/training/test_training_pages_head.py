"""A HEAD of a trainer's call view or of a set's page (a link checker, a browser's prefetch) sends no page: it
recorded the redacted transcript as viewed, and the set and each of its clips as viewed, all the same. It now
records none of them, as the QA call page's HEAD records no reading; a GET is audited as ever."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.runtime import Runtime
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.audit import events
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, training_call


def test_a_head_of_the_call_view_records_no_reading_and_a_get_does(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    session.commit()
    path = f"/training/calls/{call.id}"

    head = trainer_client.head(path)

    assert head.status_code == 200 and head.data == b""
    assert events(session, "transcript.viewed", call.id) == []
    assert trainer_client.get(path).status_code == 200
    assert len(events(session, "transcript.viewed", call.id)) == 1


def test_a_head_of_a_sets_page_records_no_viewing_and_a_get_does(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    author = actor_of(trainer)
    call = training_call(session, runtime.store, runtime.envelope)
    clip = clip_row(session, call, author)
    made = sets.create_set(
        session, runtime.envelope, actor=author, title="Openings", clip_ids=[clip.id], rules=TrainingRules()
    ).made
    session.commit()
    path = f"/training/sets/{made.id}"

    head = trainer_client.head(path)

    assert head.status_code == 200 and head.data == b""
    assert (events(session, "training.set_viewed", made.id), events(session, "training.clip_viewed", call.id)) == (
        [],
        [],
    )
    assert trainer_client.get(path).status_code == 200
    assert len(events(session, "training.set_viewed", made.id)) == 1
    assert len(events(session, "training.clip_viewed", call.id)) == 1
