"""A clip's title, tags and notes are edited from the library by the trainer who cut it, and the clip stays in its
sets; a typo meant deleting the clip (which took it out of every set) and cutting it again. A refused edit comes
back with what was typed and names the field; another trainer is neither offered the edit nor let in."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, TrainingClip, TrainingSet, TrainingSetItem, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token, make_user, post_form
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import clip_row, training_call

FINNISH = {"Accept-Language": "fi"}


def test_the_author_edits_a_clips_text_and_it_stays_in_its_set(
    app: Flask, trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(trainer))
    training_set = TrainingSet(title="Openings", owner_id=trainer.id)
    session.add(training_set)
    session.flush()
    session.add(TrainingSetItem(set_id=training_set.id, clip_id=clip.id, position=1))
    session.commit()
    edit = f"/training/clips/{clip.id}/edit"
    assert f'href="{edit}"' in trainer_client.get("/training/clips/").get_data(as_text=True)

    # Refused: a title of spaces comes back with what was typed, the field named in the reader's language.
    refused = trainer_client.post(
        edit,
        data={
            "title": "  ",
            "tags": "avaus",
            "notes": "Hyvä tervehdys",
            "csrf_token": csrf_token(trainer_client, edit),
        },
        headers=FINNISH,
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="form-error">Otsikko: ', page) and ">Hyvä tervehdys</textarea>" in page
    assert re.search(r'<input id="title"[^>]*aria-describedby="form-error"', page)

    saved = post_form(
        trainer_client, edit, {"title": "Greeting", "tags": "opening, price", "notes": "Warm"}, token_from=edit
    )
    assert saved.status_code == 302 and saved.location.endswith(f"#clip-{clip.id}")
    session.expire_all()
    changed = session.get_one(TrainingClip, clip.id)
    assert (changed.title, changed.tags, changed.notes) == ("Greeting", ["opening", "price"], "Warm")
    assert session.scalars(select(TrainingSetItem.clip_id).where(TrainingSetItem.set_id == training_set.id)).all() == [
        clip.id
    ]
    updated = select(AuditEvent).where(AuditEvent.object_id == clip.id, AuditEvent.action == "training.clip_updated")
    assert session.scalars(updated).one().details == {"changed": ["title", "tags", "notes"]}


def test_another_trainer_is_not_offered_the_edit_nor_let_in(
    app: Flask, trainer: User, session: Session, runtime: Runtime
) -> None:
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(trainer))
    colleague = make_user(session, role=Role.TRAINER)
    session.commit()
    other = client_of(app, colleague)
    edit = f"/training/clips/{clip.id}/edit"

    assert f'href="{edit}"' not in other.get("/training/clips/").get_data(as_text=True)
    assert other.get(edit).status_code == 403
    denied = select(AuditEvent).where(AuditEvent.object_id == clip.id, AuditEvent.action == "training.edit_denied")
    assert session.scalars(denied).one().actor_id == colleague.id
