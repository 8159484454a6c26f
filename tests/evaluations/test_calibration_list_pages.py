"""Found by review: /calibration/ offered "Older sessions" whenever a page was full, so a list of exactly one page
(or of whole pages) ended on a link to an empty page. The page reads one session more than it shows, as the other
lists do, and links on only when more follow."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.evaluations import calibration
from recordings_service.models import User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from web.ui import calibration as calibration_page


def _sessions(session: Session, store: ObjectStore, envelope: Envelope, organiser: User, count: int) -> None:
    form = published_form(session, actor_of(organiser))
    others = [make_user(session).id, make_user(session).id]
    for number in range(count):
        call = make_recording(session, store, envelope, agent_ref=f"agent-page-{number}")
        calibration.create_calibration(
            session,
            actor=actor_of(organiser),
            recording_id=call.id,
            form_id=form.id,
            participant_ids=others,
            title=f"Round {number}",
        )
    session.commit()


@pytest.mark.parametrize(("count", "pages"), [(2, 1), (3, 2), (4, 2)])
def test_the_list_links_on_only_while_more_sessions_follow(
    app: Flask,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    pages: int,
) -> None:
    monkeypatch.setattr(calibration_page, "PAGE_SIZE", 2)
    organiser = make_user(session)
    _sessions(session, store, envelope, organiser, count)
    client = client_of(app, organiser)

    seen, url = [], "/calibration/"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen.append(sorted(f"Round {n}" for n in range(count) if f">Round {n}<" in page))
        url = (
            page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            if 'rel="next"' in page
            else ""
        )

    assert len(seen) == pages and all(seen)
    assert sorted(title for titles in seen for title in titles) == [f"Round {n}" for n in range(count)]
