"""The QA pages in Finnish: no English value left (status, direction, role, language, answers, the seeded
form, week labels), decimals with a comma and ISO weeks as "Viikko N".

The Finnish catalogue (web/translations/fi) must translate every msgid these pages use; a new English string
added without its translation fails here.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests import page_text
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import scored, seeded_form
from tests.factories.reviews import make_transcribed_call

FINNISH = {"Accept-Language": "fi"}
# English a Finnish page must not show: stored values, their English labels, answers, language names, the
# seeded form's texts and chart words. Case-sensitive whole words.
ENGLISH = (
    "completed",
    "inbound",
    "outbound",
    "transcribed",
    "submitted",
    "draft",
    "qa_supervisor",
    "QA supervisor",
    "English",
    "Finnish",
    "Yes",
    "N/A",
    "Week",
    "Score",
    "Opening",
    "Identification",
    "Closing",
    "Customer service call",
    "Summarised the need back to the customer",
    "critical failure",
    "no evaluations",
)


def visible_text(html: str) -> str:
    """What a reader sees, without the language menu (which names each language in itself, "English")."""
    html = re.sub(r'<select[^>]*name="lang".*?</select>', " ", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return page_text.visible_text(html)


@pytest.fixture
def qa_pages(session: Session, store: S3ObjectStore, envelope: Envelope) -> list[str]:
    form = seeded_form(session)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR, username="arvioija")
    call: Recording = make_transcribed_call(session, store, envelope, direction="inbound")
    evaluation = scored(
        session,
        store,
        envelope,
        form=form,
        evaluator=supervisor,
        agent_ref="agentti",
        queue="myynti",
        value="yes",
        score=87.5,
    )
    return [
        "/dashboard",
        "/calls/",
        f"/calls/{call.id}",
        f"/calls/{evaluation.recording_id}",
        "/evaluations/",
        f"/evaluations/{evaluation.id}",
        "/agents/agentti",
        "/queues",
        "/queues/myynti",
        "/forms",
        f"/forms/{form.id}",
    ]


def test_the_qa_pages_show_no_english_in_finnish(client: FlaskClient, session: Session, qa_pages: list[str]) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR, username="tiiminvetaja"))
    found = {}
    for path in qa_pages:
        response = client.get(path, headers=FINNISH)
        assert response.status_code == 200, path
        text = visible_text(response.get_data(as_text=True))
        english = [word for word in ENGLISH if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)]
        if english:
            found[path] = english
    assert not found, f"English left on Finnish pages: {found}"


def test_finnish_numbers_and_weeks_are_formatted_by_babel(
    client: FlaskClient, session: Session, qa_pages: list[str]
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR, username="tiiminvetaja"))
    evaluation_page = next(path for path in qa_pages if path.startswith("/evaluations/0"))
    assert "87,5" in visible_text(client.get(evaluation_page, headers=FINNISH).get_data(as_text=True))
    queue = visible_text(client.get("/queues/myynti", headers=FINNISH).get_data(as_text=True))
    assert re.search(r"Viikko \d{1,2}, \d{4}", queue) and "87.5" not in queue
    calls = visible_text(client.get("/calls/", headers=FINNISH).get_data(as_text=True))
    assert "englanti" in calls  # the call's language named in Finnish (Babel's CLDR names)
