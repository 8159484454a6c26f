"""Stored values (status, direction, role, purpose) are shown as labels in the person's language, never raw."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.models.recording import Purpose, RecordingStatus
from recordings_service.redaction.findings import PiiKind
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.recordings import make_recording
from tests.factories.reviews import make_transcribed_call
from tests.page_text import visible_text
from web.i18n import LABEL_FILTERS, PII_KIND_LABELS, PURPOSE_LABELS, ROLE_LABELS, STATUS_LABELS

FINNISH = {"Accept-Language": "fi"}


def translated_values(app: Flask) -> set[str]:
    """The stored values whose label the Finnish catalogue translates."""

    def labels(language: str) -> dict[str, str]:
        with app.test_request_context(headers={"Accept-Language": language}):
            return {value: str(label) for table in LABEL_FILTERS.values() for value, label in table.items()}

    finnish, english = labels("fi"), labels("en")
    return {value for value, label in finnish.items() if label != english[value]}


def assert_no_raw_values(app: Flask, text: str) -> None:
    # Identifiers with an underscore are never an English label, translated or not.
    for value in ("qa_supervisor", "research_partner", "quality_study", "missing_object"):
        assert value not in text
    # Values the catalogue translates (test_i18n.py requires all of them to be) show only translated.
    # A value inside an identifier ("agent-7", an agent ref) is not the value shown raw.
    for value in translated_values(app):
        assert not re.search(rf"(?<![\w-]){value}(?![\w-])", text), value


@pytest.fixture
def calls(session: Session, store: S3ObjectStore, envelope: Envelope) -> list[Recording]:
    return [
        make_transcribed_call(session, store, envelope, direction="inbound"),
        make_recording(session, store, envelope, direction="outbound", status="failed"),
    ]


def test_the_call_list_and_call_page_show_finnish_directions_and_statuses(
    app: Flask, client: FlaskClient, session: Session, calls: list[Recording]
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR, username="laura"))
    listing = visible_text(client.get("/calls/", headers=FINNISH).get_data(as_text=True))
    assert "saapuva" in listing and "lähtevä" in listing
    assert_no_raw_values(app, listing)
    for call in calls:
        html = client.get(f"/calls/{call.id}", headers=FINNISH).get_data(as_text=True)
        # What was said is shown as said: the English call's "months" is not a period unit left untranslated.
        page = visible_text(re.sub(r'<ol class="segments".*?</ol>', " ", html, flags=re.S))
        assert "saapuva" in page or "lähtevä" in page
        assert_no_raw_values(app, page)


def test_the_admin_users_page_and_account_show_role_labels(app: Flask, client: FlaskClient, session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN, username="aino")
    for index, role in enumerate(Role):
        make_user(session, role=role, username=f"person{index}")
    login(client, admin)
    users = client.get("/admin/users", headers=FINNISH).get_data(as_text=True)
    assert_no_raw_values(app, visible_text(users))
    assert_no_raw_values(app, visible_text(client.get("/account", headers=FINNISH).get_data(as_text=True)))
    # In English too the page reads as words, not identifiers.
    english = visible_text(client.get("/admin/users", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "QA supervisor" in english and "research partner" in english and "qa_supervisor" not in english


@pytest.mark.parametrize(
    ("labels", "values"),
    [
        (ROLE_LABELS, Role),
        (STATUS_LABELS, RecordingStatus),
        (PURPOSE_LABELS, Purpose),
        (PII_KIND_LABELS, PiiKind),
    ],
)
def test_every_stored_value_has_a_label(labels: dict[str, object], values: type[StrEnum]) -> None:
    assert set(labels) == {str(value) for value in values}
