"""A trainer's call page names each button by its visible text first, in Finnish too (WCAG 2.5.3, label in name): a
voice user says what they see.

Found by exploratory testing in Finnish: the clip buttons showed "Alku" and "Loppu" but were named "Aloita leike
kohdasta 0,5 s" and "Päätä leike kohtaan 3,5 s", so "Alku" matched nothing (in English, "Start" is in "Start the clip
at")."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.training import stereo_call

LABELLED_BUTTON = re.compile(r'<button\b[^>]*\baria-label="([^"]*)"[^>]*>([^<]+)</button>')


@pytest.mark.parametrize("language", ["fi", "en", "sv"])
def test_every_labelled_button_begins_with_its_visible_text(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, language: str
) -> None:
    call = stereo_call(session, store, envelope)
    login(client, make_user(session, role=Role.TRAINER))

    page = client.get(f"/training/calls/{call.id}", headers={"Accept-Language": language}).get_data(as_text=True)

    buttons = LABELLED_BUTTON.findall(page)
    assert len(buttons) >= 2
    named_otherwise = [(name, shown) for name, shown in buttons if not name.lower().startswith(shown.strip().lower())]
    assert named_otherwise == []
