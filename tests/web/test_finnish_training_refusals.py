"""Refusals of the training library (clips and sets) say why in the reader's language, by the stable code (`why`)
each carries, where the API's `error` stays the generic one."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.errors import NotFound
from recordings_service.models import Customer, Recording, TrainingClip, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import training_call
from tests.web.reader_language import ENGLISH, FINNISH, shown_after_post
from web.ui.error_messages import error_message


def clip_of(session: Session, recording: Recording, author: User) -> TrainingClip:
    """A clip of the call's first 0.2 s (nothing redacted there: the agent's greeting, from 0.5 s, names the agent and
    is muted with 0.25 s either side) as a cut would leave it, without its audio."""
    clip = TrainingClip(
        recording_id=recording.id,
        start_s=0.0,
        end_s=0.2,
        title="Tervehdys",
        opus_key=f"derived/{recording.id}/clips/test.opus",
        opus_size=1,
        mp3_key=f"derived/{recording.id}/clips/test.mp3",
        mp3_size=1,
        muted_spans=[],
        created_by=author.id,
    )
    session.add(clip)
    session.flush()
    return clip


def test_changing_another_trainers_set_is_refused_in_finnish(
    app: Flask, trainer: User, session: Session, runtime: Runtime
) -> None:
    shared = sets.create_set(
        session, runtime.envelope, actor=actor_of(trainer), title="Yhteinen", shared=True, rules=TrainingRules()
    ).made
    colleague = client_of(app, make_user(session, role=Role.TRAINER))
    session.commit()
    path = f"/training/sets/{shared.id}"
    text = shown_after_post(colleague, f"{path}/edit", {"title": "Minun"}, token_from=path)
    assert "vain kokoelman tehnyt kouluttaja voi muuttaa sitä" in text and "only the trainer" not in text


def test_deleting_another_trainers_clip_is_refused_in_finnish(
    app: Flask, trainer: User, session: Session, runtime: Runtime
) -> None:
    clip = clip_of(session, training_call(session, runtime.store, runtime.envelope), trainer)
    colleague = client_of(app, make_user(session, role=Role.TRAINER))
    session.commit()
    text = shown_after_post(colleague, f"/training/clips/{clip.id}/delete", {}, token_from="/training/clips/")
    assert "vain leikkeen leikannut kouluttaja voi muuttaa tai poistaa sen" in text
    assert "only the trainer" not in text


def test_recutting_an_unknown_clip_is_refused_in_finnish(trainer_client: FlaskClient) -> None:
    path = "/training/clips/01JNOSUCHCLIP0000000000000/recut"
    text = shown_after_post(trainer_client, path, {}, token_from="/training/clips/")
    assert "leikettä ei löytynyt" in text and "not found" not in text


def test_recutting_a_current_clip_is_refused_in_finnish(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    clip = clip_of(session, training_call(session, runtime.store, runtime.envelope), trainer)
    session.commit()
    text = shown_after_post(trainer_client, f"/training/clips/{clip.id}/recut", {}, token_from="/training/clips/")
    assert "leike noudattaa jo puhelun nykyisiä peittoja: uudelleen leikattavaa ei ole" in text
    assert "nothing to cut again" not in text


def withdrawn_clip_added(
    client: FlaskClient, trainer: User, session: Session, runtime: Runtime, *, headers: dict[str, str] = FINNISH
) -> str:
    """What a set's page says after a clip of a call whose customer now objects to marketing was added to it."""
    objector = Customer(customer_ref="CRM-TRAINING-OBJECTS", objects_to_marketing=True)
    session.add(objector)
    session.flush()
    call = training_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    clip = clip_of(session, call, trainer)
    mine = sets.create_set(session, runtime.envelope, actor=actor_of(trainer), title="Omat", rules=TrainingRules()).made
    session.commit()
    path = f"/training/sets/{mine.id}"
    return shown_after_post(client, f"{path}/clips", {"clip_id": clip.id}, token_from=path, headers=headers)


def test_adding_a_withdrawn_clip_to_a_set_is_refused_in_finnish_with_the_reason(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    text = withdrawn_clip_added(trainer_client, trainer, session, runtime)
    assert "leikettä ei voi lisätä: se on poistettu käytöstä (" in text and "cannot be added" not in text
    assert "objects_to_marketing" not in text


def test_adding_a_withdrawn_clip_to_a_set_is_refused_in_english_without_the_clips_id(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    text = withdrawn_clip_added(trainer_client, trainer, session, runtime, headers=ENGLISH)
    assert "this clip cannot be added: it is withdrawn (the customer objects to marketing)" in text
    assert "objects_to_marketing" not in text and "clip 01" not in text


def test_a_set_not_found_reads_in_finnish(app: Flask, trainer: User, session: Session, runtime: Runtime) -> None:
    # A page that refuses so goes back to the set, which is not found either: the API and the mapping show it.
    with pytest.raises(NotFound) as refused:
        sets.load_set(session, actor=actor_of(trainer), set_id="01JNOSUCHSET00000000000000")
    assert refused.value.code == "not_found" and refused.value.why == "set_not_found"
    with app.test_request_context(headers=FINNISH):
        assert error_message(refused.value) == "koulutuskokoelmaa ei löytynyt"
