"""Text a clip or set holds as stored is taken as it is when it is not what an edit changes (not sent, or sent back as
the edit pages always send it): it was redacted again on every edit. Text stored before the redaction detectors or
the customer-number pattern changed, and not yet redacted again by `callvault redaction refresh`, was rewritten by a
tags-only edit (audited as a change of the title the trainer never touched), and a title at the length limit that
today's placeholders lengthen made an edit of something else fail, 422 `too_long_after_redaction` naming `title`.

The rows are written directly, as an earlier release left them; the app runs with a customer-number pattern that
finds a number in them now."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import AuditEvent, TrainingClip, TrainingSet, User
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, training_call

PATTERN = r"CV-(?P<number>\d{6})"
IDENTITY_CODE = "131052-308T"  # 11 characters, redacted as [PERSONAL_ID] (13)
WITH_NUMBER = "Callback for CV-123456, calm"  # stored before the pattern: "CV-[CUSTOMER_NUMBER]" now
AT_LIMIT = f"Caller read {IDENTITY_CODE} aloud " + "x" * (clips.MAX_TITLE - 30)  # 200 stored, 202 once redacted
STORED_NOTES = "Customer CV-654321 asked twice,\nthen calmed down"
TITLES = pytest.mark.parametrize("stored_title", [WITH_NUMBER, AT_LIMIT], ids=["number found now", "at the limit"])


@pytest.fixture
def settings(base_settings: Settings, database_url: str) -> Settings:
    return Settings(**{**base_settings.__dict__, "database_url": database_url, "customer_number_pattern": PATTERN})


def stored_clip(session: Session, runtime: Runtime, author: User, title: str) -> TrainingClip:
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    clip.title, clip.tags, clip.notes = title, ["opening"], STORED_NOTES
    session.commit()
    return clip


def stored(session: Session, model: type[TrainingClip] | type[TrainingSet], row_id: str) -> Any:
    session.expire_all()
    return session.get_one(model, row_id)


def changes(session: Session, action: str, object_id: str) -> list[list[str]]:
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == object_id)
    return [event.details["changed"] for event in session.scalars(query.order_by(AuditEvent.seq))]


@TITLES
@pytest.mark.parametrize(
    "edit",
    [
        ({"tags": ["opening", "calm"]}, ["tags"]),
        ({"notes": "listen to the pause"}, ["notes"]),
        ({"title": "{stored}", "tags": ["calm"], "notes": STORED_NOTES}, ["tags"]),
    ],
    ids=["tags only", "notes only", "tags with the rest sent back"],
)
def test_a_clip_edit_leaves_the_stored_title_and_notes_as_they_are(
    api: tuple[FlaskClient, dict[str, str], User],
    session: Session,
    runtime: Runtime,
    stored_title: str,
    edit: tuple[dict[str, Any], list[str]],
) -> None:
    (client, token, author), (sent, changed) = api, edit
    clip = stored_clip(session, runtime, author, stored_title)
    body = {name: stored_title if value == "{stored}" else value for name, value in sent.items()}

    edited = client.patch(f"/api/v1/training/clips/{clip.id}", json=body, headers=token)

    assert edited.status_code == 200, edited.get_data(as_text=True)
    now = stored(session, TrainingClip, clip.id)
    assert (now.title, edited.get_json()["title"]) == (stored_title, stored_title)
    assert now.notes == ("listen to the pause" if "notes" in changed else STORED_NOTES)
    assert changes(session, "training.clip_updated", clip.id) == [changed]


@TITLES
def test_the_clip_edit_page_saving_other_fields_leaves_the_stored_title(
    trainer_client: FlaskClient, trainer: User, session: Session, runtime: Runtime, stored_title: str
) -> None:
    clip = stored_clip(session, runtime, trainer, stored_title)
    edit = f"/training/clips/{clip.id}/edit"
    form = {"title": stored_title, "tags": "opening, calm", "notes": "listen to the pause"}

    saved = trainer_client.post(edit, data={**form, "csrf_token": csrf_token(trainer_client, edit)})

    assert saved.status_code == 302, saved.get_data(as_text=True)
    now = stored(session, TrainingClip, clip.id)
    assert (now.title, now.tags, now.notes) == (stored_title, ["opening", "calm"], "listen to the pause")
    assert changes(session, "training.clip_updated", clip.id) == [["tags", "notes"]]


def test_a_changed_title_is_still_checked_and_redacted(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime
) -> None:
    client, token, author = api
    clip = stored_clip(session, runtime, author, WITH_NUMBER)
    path = f"/api/v1/training/clips/{clip.id}"

    longer = client.patch(path, json={"title": AT_LIMIT[:-1] + "y"}, headers=token)
    assert longer.status_code == 422 and longer.get_json()["field"] == "title", longer.get_json()
    edited = client.patch(path, json={"title": WITH_NUMBER + "!"}, headers=token)
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert stored(session, TrainingClip, clip.id).title == "Callback for CV-[CUSTOMER_NUMBER], calm!"
    assert changes(session, "training.clip_updated", clip.id) == [["title"]]


def stored_set(client: FlaskClient, token: dict[str, str], session: Session, clip_ids: list[str], title: str) -> str:
    made = client.post(
        "/api/v1/training/sets", headers=token, json={"title": "Openings", "description": "", "clip_ids": clip_ids}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    set_id: str = made.get_json()["id"]
    session.get_one(TrainingSet, set_id).title = title
    session.commit()
    return set_id


@TITLES
@pytest.mark.parametrize(
    "edit", ["order", "description"], ids=["order with the title sent back", "description with the title sent back"]
)
def test_a_set_patch_leaves_the_stored_title(
    api: tuple[FlaskClient, dict[str, str], User], session: Session, runtime: Runtime, stored_title: str, edit: str
) -> None:
    client, token, author = api
    recording = training_call(session, runtime.store, runtime.envelope)
    first, second = (clip_row(session, recording, actor_of(author)).id for _ in range(2))
    session.commit()
    set_id = stored_set(client, token, session, [first, second], stored_title)
    change = {"clip_ids": [second, first]} if edit == "order" else {"description": "Calm openings"}

    edited = client.patch(f"/api/v1/training/sets/{set_id}", headers=token, json={"title": stored_title, **change})

    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert stored(session, TrainingSet, set_id).title == stored_title
    changed = "clip_ids" if edit == "order" else "description"
    assert changes(session, "training.set_updated", set_id) == [[changed]]


@TITLES
def test_the_set_page_saving_the_description_leaves_the_stored_title(
    trainer_client: FlaskClient, trainer: User, session: Session, stored_title: str
) -> None:
    training_set = TrainingSet(title=stored_title, description="", owner_id=trainer.id)
    session.add(training_set)
    session.commit()
    page = f"/training/sets/{training_set.id}"
    shown = trainer_client.get(page).get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]*)"', shown)
    assert version, shown
    # The page's form sends the title back as shown, with the description changed.
    form = {"title": stored_title, "description": "Calm openings", "version": version.group(1)}

    saved = trainer_client.post(f"{page}/edit", data={**form, "csrf_token": csrf_token(trainer_client, page)})

    assert saved.status_code == 302, saved.get_data(as_text=True)
    now = stored(session, TrainingSet, training_set.id)
    assert (now.title, now.description) == (stored_title, "Calm openings")
    assert changes(session, "training.set_updated", training_set.id) == [["description"]]
