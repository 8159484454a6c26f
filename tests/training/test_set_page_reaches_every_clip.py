"""A set's page offered the library's newest 200 clips to add, and no more: a trainer whose library had grown past
that could not add an older clip to a set from anywhere in the browser. The page now offers the library a page at
a time, with a link to older clips."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.runtime import Runtime
from recordings_service.training import sets
from recordings_service.training.clip_views import MAX_PAGE
from recordings_service.training_rules import TrainingRules
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import clip_row, training_call


def offered(page: str) -> list[str]:
    """The clips the page's "Add a clip at the end" offers."""
    listed = page.split('name="clip_id"', 1)[1].split("</select>", 1)[0] if 'name="clip_id"' in page else ""
    return re.findall(r'<option value="([0-9A-Z]{26})"', listed)


def test_the_set_page_offers_every_clip_of_the_library_page_by_page(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    author = actor_of(trainer)
    recording = training_call(session, runtime.store, runtime.envelope)
    library = [clip_row(session, recording, author).id for _ in range(MAX_PAGE + 2)]
    made = sets.create_set(
        session, runtime.envelope, actor=author, title="Openings", clip_ids=[library[-1]], rules=TrainingRules()
    ).made
    session.commit()
    client = client_of(app, trainer)

    first = client.get(f"/training/sets/{made.id}").get_data(as_text=True)
    older = re.search(r'href="(/training/sets/[^"]*clips=[^"]*)">Older clips<', first)
    assert older is not None, "no way to the older clips"
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)

    assert set(offered(first)) | set(offered(second)) == set(library[:-1])
    assert library[0] in offered(second)
