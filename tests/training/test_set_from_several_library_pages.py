"""The clip library gathers ticked clips into a new set, but shows 50 clips a page and its ticks are a page's
form: ticks on other pages were lost, and nothing said how to gather clips from several pages. The page now says
so where the library spans pages (create the set from this page's ticks, then add the others on the set's page,
whose "Add a clip at the end" reaches the whole library), and a refused set comes back on the page its clips
were ticked on (it came back on the first page, the ticks of any other lost)."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import TrainingSet, User
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import clip_row, training_call
from web.ui.training import PAGE_SIZE

HINT = "Ticks are kept on this page only"


def test_a_set_gathers_clips_from_two_library_pages(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    recording = training_call(session, runtime.store, runtime.envelope)
    newest_first = [clip_row(session, recording, actor_of(trainer)).id for _ in range(PAGE_SIZE + 1)][::-1]
    session.commit()
    client = client_of(app, trainer)

    first = client.get("/training/clips/").get_data(as_text=True)
    older = re.search(r'href="(/training/clips/\?cursor=[\w-]+)">Older clips<', first)
    assert older is not None
    second = client.get(older.group(1)).get_data(as_text=True)
    assert HINT in first and HINT in second
    assert f'value="{newest_first[-1]}"' in second and f'value="{newest_first[-1]}"' not in first

    # Refused (no title) from the second page: it comes back there, with the tick kept.
    ticked = {"next": "/training/clips/", "cursor": older.group(1).split("=")[1], "clip_ids": [newest_first[-1]]}
    refused = client.post(
        "/training/sets/", data={**ticked, "title": "", "csrf_token": csrf_token(client, older.group(1))}
    )
    assert refused.status_code == 422
    kept = rf'value="{newest_first[-1]}" id="pick-{newest_first[-1]}" *checked'
    assert re.search(kept, refused.get_data(as_text=True)), "the refused set came back without the tick"

    token = csrf_token(client, "/training/clips/")
    made = client.post(
        "/training/sets/",
        data={"next": "/training/clips/", "clip_ids": [newest_first[0]], "title": "Two pages", "csrf_token": token},
    )
    set_path = made.headers["Location"]
    assert f'<option value="{newest_first[-1]}"' in client.get(set_path).get_data(as_text=True)
    added = client.post(
        f"{set_path}/clips", data={"clip_id": newest_first[-1], "csrf_token": csrf_token(client, set_path)}
    )
    assert added.status_code == 302

    training_set = session.get_one(TrainingSet, set_path.rsplit("/", 1)[1], populate_existing=True)
    assert [item.clip_id for item in training_set.items] == [newest_first[0], newest_first[-1]]


def test_a_library_of_one_page_says_nothing_of_other_pages(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(trainer))
    session.commit()

    assert HINT not in client_of(app, trainer).get("/training/clips/").get_data(as_text=True)
