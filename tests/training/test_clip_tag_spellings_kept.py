"""A clip saved before tags were one per key (2026-12-07) may hold "Äiti" and "äiti". An edit of its title alone (a
PATCH sending no tags, the edit page sending them back as shown) lost one of them and was audited as a change of tags
the trainer never made: the stored tags went through the caseless rule again. They stay as stored; a list of tags the
trainer changes is one per key, as every tag written is."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, TrainingClip, User
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, training_call

SAVED_BEFORE = ["Äiti", "äiti", "opening"]


def saved_before(session: Session, runtime: Runtime, author: User) -> TrainingClip:
    """A clip as a release before the caseless rule stored it: written to its row, not through an edit."""
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    clip.tags = list(SAVED_BEFORE)
    session.commit()
    return clip


def updates(session: Session, clip_id: str) -> list[dict[str, Any]]:
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == "training.clip_updated", AuditEvent.object_id == clip_id)
    return [event.details for event in session.scalars(query.order_by(AuditEvent.seq))]


def stored_tags(session: Session, clip_id: str) -> list[str]:
    session.expire_all()
    return session.get_one(TrainingClip, clip_id).tags


@pytest.mark.parametrize(
    ("sent", "changed"),
    [({"title": "Warm opening"}, ["title"]), ({"notes": "listen"}, ["notes"]), ({"tags": SAVED_BEFORE}, [])],
    ids=["title", "notes", "tags as stored"],
)
def test_an_edit_of_something_else_keeps_both_spellings_and_audits_only_its_change(
    api: tuple[FlaskClient, dict[str, str], User],
    session: Session,
    runtime: Runtime,
    sent: dict[str, Any],
    changed: list[str],
) -> None:
    client, token, author = api
    clip = saved_before(session, runtime, author)

    edited = client.patch(f"/api/v1/training/clips/{clip.id}", json=sent, headers=token)

    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["tags"] == SAVED_BEFORE and stored_tags(session, clip.id) == SAVED_BEFORE
    assert updates(session, clip.id) == ([{"changed": changed}] if changed else [])


def test_the_edit_page_sending_the_tags_back_keeps_both_spellings(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime
) -> None:
    clip = saved_before(session, runtime, trainer)
    edit = f"/training/clips/{clip.id}/edit"
    form = {"title": "Warm opening", "tags": ", ".join(SAVED_BEFORE), "notes": ""}

    saved = trainer_client.post(edit, data={**form, "csrf_token": csrf_token(trainer_client, edit)})

    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert stored_tags(session, clip.id) == SAVED_BEFORE
    assert updates(session, clip.id) == [{"changed": ["title"]}]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (["Äiti", "äiti", "opening", "calm"], ["Äiti", "opening", "calm"]),
        (["äiti", "Äiti", "opening"], ["äiti", "opening"]),
    ],
    ids=["a tag added", "reordered"],
)
def test_tags_the_trainer_changes_are_one_per_key(
    api: tuple[FlaskClient, dict[str, str], User],
    session: Session,
    runtime: Runtime,
    sent: list[str],
    kept: list[str],
) -> None:
    client, token, author = api
    clip = saved_before(session, runtime, author)

    edited = client.patch(f"/api/v1/training/clips/{clip.id}", json={"tags": sent}, headers=token)

    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert stored_tags(session, clip.id) == kept
    assert updates(session, clip.id) == [{"changed": ["tags"]}]
