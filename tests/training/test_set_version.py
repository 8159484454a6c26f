"""A whole-order PATCH of a training set was last-writer-wins: two trainers' tools (or one's two tabs) each sent
the order they had read, and the one saved second silently undid the other. A set now carries a `version` that
moves on with each change; a PATCH may send the version it was made from, and one made from an older version is
refused (409 `set_changed`, with the version now) instead of replacing a change its sender never saw. A PATCH
without a version is made as ever. The set's page sends the version with each form that changes the order or the
text, and a stale one shows the set as it is now with why nothing was saved."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.models import AuditEvent, TrainingSet, User
from recordings_service.models.account import Role
from recordings_service.runtime import SESSION_ENVELOPE, Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.factories.training import bearer, clip_row, trainer, training_call
from tests.page_text import visible_text

STALE = "the set was changed elsewhere after this page was shown, so your change was not saved"
RULES = TrainingRules()


def three_clips(session: Session, runtime: Runtime, author: Actor) -> list[str]:
    recording = training_call(session, runtime.store, runtime.envelope)
    return [clip_row(session, recording, author).id for _ in range(3)]


def order(session: Session, set_id: str) -> list[str]:
    session.expire_all()
    return [item.clip_id for item in session.get_one(TrainingSet, set_id).items]


def test_a_patch_made_from_an_older_version_is_refused_and_one_without_a_version_is_made(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    headers = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    a, b, c = three_clips(session, runtime, trainer(session))  # another trainer's clips, as the library has them
    session.commit()
    made = client.post("/api/v1/training/sets", headers=headers, json={"title": "Openings", "clip_ids": [a, b, c]})
    assert made.status_code == 201, made.get_data(as_text=True)
    path = f"/api/v1/training/sets/{made.get_json()['id']}"
    read = client.get(path, headers=headers).get_json()
    assert isinstance(read["version"], int) and read["version"] == made.get_json()["version"]
    listed = client.get("/api/v1/training/sets", headers=headers).get_json()["items"]
    assert [item["version"] for item in listed] == [read["version"]]

    # Two tools read version v; the first saves its order, the second's (made from v) is refused.
    first = client.patch(path, headers=headers, json={"clip_ids": [c, a, b], "version": read["version"]})
    assert first.status_code == 200, first.get_data(as_text=True)
    now = first.get_json()["version"]
    assert now != read["version"]
    second = client.patch(path, headers=headers, json={"clip_ids": [b, a, c], "version": read["version"]})
    assert second.status_code == 409
    assert second.get_json() == {
        "error": "set_changed",
        "message": second.get_json()["message"],
        "field": "version",
        "version": now,
    }
    assert order(session, made.get_json()["id"]) == [c, a, b]
    title = client.patch(path, headers=headers, json={"title": "Renamed", "version": read["version"]})
    assert title.status_code == 409 and client.get(path, headers=headers).get_json()["title"] == "Openings"

    # Sent with the version now, it is made; without a version, as ever; null is refused naming the field.
    again = client.patch(path, headers=headers, json={"clip_ids": [b, a, c], "version": now})
    assert again.status_code == 200 and again.get_json()["version"] != now
    blind = client.patch(path, headers=headers, json={"clip_ids": [a, b, c]})
    assert blind.status_code == 200 and order(session, made.get_json()["id"]) == [a, b, c]
    null = client.patch(path, headers=headers, json={"version": None})
    assert null.status_code == 422 and null.get_json()["field"] == "version"
    updates = session.scalars(select(AuditEvent).where(AuditEvent.action == "training.set_updated")).all()
    assert len(updates) == 2 + 1  # the refused ones changed nothing


def test_the_set_page_sends_its_version_and_a_stale_form_shows_the_set_as_it_is(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    a, b, c = three_clips(session, runtime, actor_of(trainer))
    made = sets.create_set(
        session, runtime.envelope, actor=actor_of(trainer), title="Openings", clip_ids=[a, b, c], rules=RULES
    ).made
    session.commit()
    path = f"/training/sets/{made.id}"
    tab_one, tab_two = client_of(app, trainer), client_of(app, trainer)
    shown = tab_two.get(path).get_data(as_text=True)
    versions = re.findall(r'name="version" value="([^"]*)"', shown)
    assert len(versions) >= 3 and len(set(versions)) == 1  # each move, the title, adding a clip: the one shown
    version = versions[0]
    token_one, token_two = csrf_token(tab_one, path), csrf_token(tab_two, path)

    moved = tab_one.post(
        f"{path}/order", data={"clip_id": c, "move": "up", "version": version, "csrf_token": token_one}
    )
    assert moved.status_code == 302 and order(session, made.id) == [a, c, b]

    # The second tab still shows a, b, c: its "b down" (meant as a, c, b) would have undone the first tab's move.
    stale = tab_two.post(
        f"{path}/order", data={"clip_id": b, "move": "down", "version": version, "csrf_token": token_two}
    )
    assert stale.status_code == 302 and stale.headers["Location"].endswith(path)
    again = tab_two.get(path).get_data(as_text=True)
    assert STALE in visible_text(again) and order(session, made.id) == [a, c, b]
    # Its title, typed on the old page, is not saved either: the page comes back with it as typed, to send again.
    renamed = tab_two.post(
        f"{path}/edit", data={"title": "Mine", "description": "", "version": version, "csrf_token": token_two}
    )
    assert renamed.status_code == 409 and session.get_one(TrainingSet, made.id).title == "Openings"
    assert STALE in visible_text(renamed.get_data(as_text=True)) and 'value="Mine"' in renamed.get_data(as_text=True)

    # The page shown again carries the version now, and its forms work.
    current = re.findall(r'name="version" value="([^"]*)"', again)[0]
    assert current != version
    fresh = tab_two.post(
        f"{path}/order", data={"clip_id": b, "move": "up", "version": current, "csrf_token": token_two}
    )
    assert fresh.status_code == 302 and order(session, made.id) == [a, b, c]
    unversioned = tab_two.post(f"{path}/order", data={"clip_id": a, "move": "down", "csrf_token": token_two})
    assert unversioned.status_code == 302 and order(session, made.id) == [b, a, c]  # a page from before versions


@pytest.fixture
def race_engine() -> Iterator[Engine]:
    with private_engine("t_set_version_") as engine:
        yield engine


@pytest.mark.postgres
def test_two_changes_from_one_version_at_once_save_the_first_and_refuse_the_second(
    race_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    """The version is compared under the set's row lock: the second change waits for the first, then finds the
    version moved on (read before the lock, both would have passed and the second replaced the first)."""
    sessions: sessionmaker[Session] = sessionmaker(
        race_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope}
    )
    with sessions() as session:
        owner = trainer(session)
        recording = training_call(session, store, envelope)
        a, b, c = (clip_row(session, recording, owner).id for _ in range(3))
        made = sets.create_set(session, envelope, actor=owner, title="Openings", clip_ids=[a, b, c], rules=RULES).made
        session.commit()
        set_id, version = made.id, sets.set_version(made)

    first = sessions()
    sets.update_set(first, envelope, actor=owner, set_id=set_id, clip_ids=[c, b, a], version=version, rules=RULES)
    outcome: dict[str, Any] = {}

    def second() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                sets.update_set(
                    session, envelope, actor=owner, set_id=set_id, clip_ids=[b, a, c], version=version, rules=RULES
                )
                session.commit()
                outcome["result"] = "saved"
            except Exception as exc:
                outcome["result"] = type(exc).__name__

    thread = threading.Thread(target=second)
    thread.start()
    wait_until_blocked(race_engine, thread, outcome, what="the second change")
    first.commit()
    first.close()
    thread.join(timeout=20)

    assert outcome["result"] == "SetChanged"
    with sessions() as session:
        assert [item.clip_id for item in sets.load_set(session, actor=owner, set_id=set_id).items] == [c, b, a]
