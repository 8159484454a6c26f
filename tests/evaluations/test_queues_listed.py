"""Found by exploratory testing: /queues listed under "By queue" every queue with any evaluation row, a
supervisor's unsubmitted draft or the evaluation of a restricted call included. Such a queue's page has no
score to show (drafts never count, restricted calls are left out of trends), and the list said it had been
evaluated. Only queues with a submitted evaluation of a call that is not restricted are listed now."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import scoring, trends
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording
from tests.page_text import visible_text


def test_only_queues_with_a_score_that_counts_are_listed(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session)
    actor = actor_of(supervisor)
    form = published_form(session, actor)
    scored_call = make_recording(session, store, envelope, queue="moving-scored")
    drafted_call = make_recording(session, store, envelope, queue="billing-drafted")
    restricted_call = make_recording(session, store, envelope, queue="outage-restricted")
    scoring.evaluate_call(
        session, actor=actor, recording_id=scored_call.id, form_id=form.id, answers=answers(form, ["yes", "4", "yes"])
    )
    scoring.save_draft(session, actor=actor, recording_id=drafted_call.id, form_id=form.id, answers={})
    scoring.evaluate_call(
        session,
        actor=actor,
        recording_id=restricted_call.id,
        form_id=form.id,
        answers=answers(form, ["yes", "4", "yes"]),
    )
    restricted_call.restricted = True
    session.commit()

    assert trends.queues_evaluated(session) == ["moving-scored"]
    login(client, supervisor)
    by_queue = visible_text(client.get("/queues").get_data(as_text=True)).split("By queue", 1)[1]
    assert "moving-scored" in by_queue
    assert "billing-drafted" not in by_queue and "outage-restricted" not in by_queue
