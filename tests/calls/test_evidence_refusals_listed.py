"""Found by exporting evidence from the Finnish call page: a refused export (the stored original not matching its
recorded SHA-256, or the call's trail growing while the package was made) said so in the core's English, naming the
recording's id. The page now says it as listed for translation (web/ui/messages/calls.py)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls import evidence
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.reviews import make_transcribed_call
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, post_as


@pytest.fixture
def call(client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    recording = make_transcribed_call(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    return recording


def refused_export(client: FlaskClient, call: Recording, status: int) -> str:
    page = f"/calls/{call.id}"
    response = post_as(client, f"{page}/evidence", {}, token_from=page, headers=ENGLISH)
    assert response.status_code == status
    return visible_text(response.get_data(as_text=True))


def test_a_mismatching_original_is_refused_in_the_pages_words(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    call.sha256 = "0" * 64
    session.commit()

    shown = refused_export(client, call, 409)

    assert "the stored audio does not match the SHA-256 recorded for it" in shown
    assert call.id not in shown


def test_a_trail_that_grew_while_packing_is_refused_in_the_pages_words(
    client: FlaskClient, call: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence, "_SIZE_ALLOWANCE", -10_000)

    shown = refused_export(client, call, 409)

    assert "the call's audit trail changed while the evidence package was made: download it again" in shown
    assert call.id not in shown
