"""A search hit names who spoke as the call page does, in the reader's language.

Found by exploratory testing in Finnish: the call list's snippets read "0:03 customer: …" and "agent: …" (the stored
codes) where the call page says "Asiakas" and "Asiakaspalvelija"."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.search import random_day, transcribed_call


@pytest.mark.parametrize(
    ("language", "agent", "customer"), [("fi", "Asiakaspalvelija", "Asiakas"), ("en", "Agent", "Customer")]
)
def test_a_snippet_names_its_speaker_in_the_readers_language(
    client: FlaskClient,
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    language: str,
    agent: str,
    customer: str,
) -> None:
    day = random_day()
    transcribed_call(session, store, envelope, started_at=day, lines=["Your invoice is here.", "My invoice is wrong."])
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    window = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}

    page = client.get("/calls/", query_string={"q": "invoice", **window}, headers={"Accept-Language": language})

    speakers = re.findall(r'<span class="speaker">([^<]*)</span>', page.get_data(as_text=True))
    assert speakers == [f"{agent}:", f"{customer}:"]
