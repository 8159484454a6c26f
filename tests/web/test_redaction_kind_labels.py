"""Found by exploratory testing: the call page's list of redacted personal data named each kind by its code in
capitals (PERSON, PERSONAL_ID, PHONE, IBAN), in English on a Finnish page; it now names each in the reader's
language, as every other stored value a page shows."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.reviews import make_transcribed_call
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH


def redactions_shown(app: Flask, session: Session, call_id: str, headers: dict[str, str]) -> str:
    client = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    html = client.get(f"/calls/{call_id}", headers=headers).get_data(as_text=True)
    section = re.search(r'<section class="redactions".*?</section>', html, re.S)
    assert section is not None, "the call page lists no redactions"
    return " ".join(visible_text(section[0]).split())


def test_the_redacted_kinds_read_in_the_readers_language(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    # The fixture's agent greets "this is Anna": her name is redacted.
    call = make_transcribed_call(session, store, envelope, redacted=True)
    session.commit()

    finnish = redactions_shown(app, session, call.id, FINNISH)
    english = redactions_shown(app, session, call.id, ENGLISH)

    assert "henkilön nimi" in finnish and "person's name" in english
    for shown in (finnish, english):
        assert not re.search(r"\b[A-Z]{2,}(?:_[A-Z]+)*\b", shown), shown  # no kind's code in capitals
