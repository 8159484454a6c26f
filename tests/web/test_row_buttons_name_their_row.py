"""A list's per-row buttons each name their row, so that a screen reader's list of buttons (or a voice command) can
tell them apart; the visible word comes first (WCAG 2.5.3).

Found by exploratory testing: every active legal hold's button was "Vapauta" (Release), every clip's "Poista" and
"Muokkaa" (Delete, Edit), and a set's clips' "Ota pois" (Take out), with nothing else to tell which row each acts on."""

from __future__ import annotations

import re
from collections import Counter

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.privacy import OFFICER
from tests.factories.recordings import make_recording
from tests.factories.training import clip_row, stereo_call


def _names(page: str, tag: str) -> list[str]:
    """Each `tag` element's text as a screen reader reads it (tags dropped, spaces collapsed)."""
    elements = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", page, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", element).split()) for element in elements]


def _repeated(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def test_each_legal_holds_release_button_and_reason_name_the_hold(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    for _ in range(2):
        recording = make_recording(session, store, envelope)
        holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=recording.id)
    holds.place_hold(session, actor=OFFICER, reason="claim", customer_ref="CRM-ROW-1")
    login(client, make_user(session, role=Role.COMPLIANCE))

    page = client.get("/compliance/holds").get_data(as_text=True)

    releases = [name for name in _names(page, "button") if name.startswith("Release")]
    assert len(releases) >= 3 and _repeated(releases) == []
    assert "Release (customer CRM-ROW-1)" in releases
    reasons = [name for name in _names(page, "label") if name.startswith("Reason for release")]
    assert len(reasons) >= 3 and _repeated(reasons) == []


def test_each_clips_actions_name_the_clip(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    trainer = make_user(session, role=Role.TRAINER)
    call = stereo_call(session, store, envelope)
    for title in ("Greeting", "Closing"):
        clip_row(session, call, actor_of(trainer)).title = title
    session.commit()
    login(client, trainer)

    page = client.get("/training/clips/").get_data(as_text=True)

    assert {"Delete (Greeting)", "Delete (Closing)"} <= set(_names(page, "button"))
    assert {"Edit (Greeting)", "Edit (Closing)"} <= set(_names(page, "a"))
