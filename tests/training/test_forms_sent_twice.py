"""The clip form and the set form sent twice (a double click, a browser's resend, a client's retry) make one clip or
set: the second submission answers the first's, as a legal hold or a research selection sent twice does. Found by
an exploratory pass: each made a second, identical clip (its audio cut and stored again) or set, on both databases,
and the trainer's library showed both."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.db import utcnow
from recordings_service.models import TrainingClip, User
from recordings_service.models.account import Role
from recordings_service.resubmission import Made, take_turn
from recordings_service.runtime import SESSION_ENVELOPE, Runtime
from recordings_service.training import clips
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import make_user
from tests.factories.audit import events
from tests.factories.evaluations import actor_of
from tests.factories.own_database import second_waits_for_first
from tests.factories.training import stereo_call

Api = tuple[FlaskClient, dict[str, str], User]


def test_a_clip_sent_twice_is_cut_once(api: Api, session: Session, runtime: Runtime) -> None:
    client, token, _ = api
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    body = {"recording_id": call.id, "start_s": 0.5, "end_s": 3.5, "title": "Greeting", "tags": ["opening"]}

    first = client.post("/api/v1/training/clips", headers=token, json=body)
    again = client.post("/api/v1/training/clips", headers=token, json=body)
    other = client.post("/api/v1/training/clips", headers=token, json={**body, "title": "Greeting, again"})

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201), again.get_data(as_text=True)
    assert again.get_json()["id"] == first.get_json()["id"] != other.get_json()["id"]
    cut = [event.details["clip_id"] for event in events(session, "training.clip_cut", call.id)]
    assert cut == [first.get_json()["id"], other.get_json()["id"]]


def test_a_set_sent_twice_is_made_once(api: Api, session: Session, runtime: Runtime) -> None:
    client, token, _ = api
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    span = {"recording_id": call.id, "start_s": 0.5, "end_s": 3.5, "title": "Greeting"}
    clip_id = client.post("/api/v1/training/clips", headers=token, json=span).get_json()["id"]
    body = {"title": "Openings", "description": "How we greet", "clip_ids": [clip_id]}

    first = client.post("/api/v1/training/sets", headers=token, json=body)
    again = client.post("/api/v1/training/sets", headers=token, json=body)
    empty = client.post("/api/v1/training/sets", headers=token, json={**body, "clip_ids": []})

    assert (first.status_code, again.status_code, empty.status_code) == (201, 200, 201), again.get_data(as_text=True)
    assert again.get_json()["id"] == first.get_json()["id"] != empty.get_json()["id"]
    made = [event.object_id for event in events(session, "training.set_created")]
    assert first.get_json()["id"] in made and made.count(first.get_json()["id"]) == 1


def test_two_submissions_arriving_together_cut_one_clip(own_engine: Engine, runtime: Runtime) -> None:
    """The second waits for the first to commit, then finds its clip: on PostgreSQL it read the clips as before the
    first committed and cut its own."""
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: runtime.envelope})
    with sessions() as setup:
        call_id = stereo_call(setup, runtime.store, runtime.envelope).id
        trainer = actor_of(make_user(setup, role=Role.TRAINER))
        setup.commit()

    def submit(session: Session) -> Made[TrainingClip]:
        return clips.cut_clip(
            session,
            runtime.store,
            runtime.envelope,
            actor=trainer,
            recording_id=call_id,
            start_s=0.5,
            end_s=3.5,
            text=clips.ClipText(title="Greeting"),
            rules=TrainingRules(),
            ffmpeg=runtime.settings.ffmpeg_path(),
            tone=False,
            reuse_recent=True,
        )

    second = second_waits_for_first(sessions, submit, submit)

    assert isinstance(second, Made) and not second.new, second
    with sessions() as check:
        assert check.scalar(select(func.count()).where(TrainingClip.recording_id == call_id)) == 1


@pytest.mark.postgres
def test_a_turn_held_leaves_the_trainers_account_row_free(pg_engine: Engine) -> None:
    """Found by review: the turn was the account row itself, held while a clip's audio is encoded (seconds), so the
    same trainer's sign-in elsewhere, which writes its last sign-in on that row, and an admin disabling them waited
    for the cut to commit. The turn is an advisory lock now; two turns of one account still wait for each other."""
    with Session(pg_engine) as setup:
        trainer = make_user(setup, role=Role.TRAINER)
        setup.commit()
        actor = actor_of(trainer)
    with Session(pg_engine) as cutting, Session(pg_engine) as signing_in:
        take_turn(cutting, actor)
        signing_in.execute(text("SET LOCAL lock_timeout = '2s'"))

        signing_in.execute(update(User).where(User.id == actor.id).values(last_login_at=utcnow()))
        signing_in.commit()

        signing_in.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            take_turn(signing_in, actor)  # a second submission of the same trainer waits for the first's
        signing_in.rollback()
        cutting.rollback()
