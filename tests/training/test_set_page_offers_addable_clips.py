"""A set's page offered every clip of the library under "Add a clip at the end", outdated and withdrawn ones too,
and picking one of those was then refused (409 `clip_unavailable`). The page now offers only the clips a set takes
(available, not in it yet) and says so when there are none; a form sent from an older page is still refused."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import TrainingClip, User
from recordings_service.runtime import Runtime
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import post_form
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import clip_row, training_call
from tests.page_text import visible_text

NONE_TO_ADD = "No clip can be added at the end"


def offered(page: str) -> list[str]:
    """The clips the page's "Add a clip at the end" offers."""
    listed = page.split('<select id="clip_id"', 1)[1].split("</select>", 1)[0] if '<select id="clip_id"' in page else ""
    return re.findall(r'<option value="([0-9A-Z]{26})"', listed)


def outdated_clip(session: Session, runtime: Runtime, author: User) -> TrainingClip:
    """A clip cut before its call's redactions changed (it mutes other spans than the call's twin now does)."""
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    clip.muted_spans = [[18.0, 19.0]]
    return clip


def test_the_set_page_offers_only_clips_that_can_be_added(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    author = actor_of(trainer)
    usable = training_call(session, runtime.store, runtime.envelope)
    available, in_set = clip_row(session, usable, author), clip_row(session, usable, author)
    outdated = outdated_clip(session, runtime, trainer)
    unusable = training_call(session, runtime.store, runtime.envelope, purposes=["verification"])
    withdrawn = clip_row(session, unusable, author)
    made = sets.create_set(
        session, runtime.envelope, actor=author, title="Openings", clip_ids=[in_set.id], rules=TrainingRules()
    ).made
    session.commit()
    client = client_of(app, trainer)
    path = f"/training/sets/{made.id}"

    page = client.get(path).get_data(as_text=True)

    assert offered(page) == [available.id]
    assert NONE_TO_ADD not in visible_text(page)
    # A form from a page shown before the clip was withdrawn is refused as ever, the set page saying why.
    for stale in (outdated, withdrawn):
        refused = post_form(client, f"{path}/clips", {"clip_id": stale.id}, token_from=path)
        assert refused.status_code == 302
        assert "this clip cannot be added" in visible_text(client.get(path).get_data(as_text=True))
    assert [item.clip_id for item in session.get_one(type(made), made.id).items] == [in_set.id]


def test_the_set_page_says_so_when_no_clip_can_be_added(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    author = actor_of(trainer)
    outdated = outdated_clip(session, runtime, trainer)
    in_set = clip_row(session, training_call(session, runtime.store, runtime.envelope), author)
    made = sets.create_set(
        session, runtime.envelope, actor=author, title="Openings", clip_ids=[in_set.id], rules=TrainingRules()
    ).made
    session.commit()
    assert outdated.id

    page = client_of(app, trainer).get(f"/training/sets/{made.id}").get_data(as_text=True)

    assert offered(page) == [] and 'action="/training/sets/' + made.id + '/clips"' not in page
    assert NONE_TO_ADD in visible_text(page)
