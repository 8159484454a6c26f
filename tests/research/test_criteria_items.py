"""Found by review: a batch's `criteria.languages` and `criteria.queues` took an empty item, or one of 200
characters, which no call is stored with, so the item selected nothing; and an unknown `institute_id` was a 404
naming no field. Each item is now one calls can be stored with (ingest's languages; a queue name of 1 to 100
characters, as its column holds), refused naming its place, on the API and the selection form alike; the unknown
institute names `institute_id`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.runtime import Runtime
from tests.factories.accounts import post_form
from tests.factories.recordings import make_token
from tests.factories.research import batch_body, institute, research_call
from tests.research.conftest import MakeBatch

BATCHES = "/api/v1/research/batches"
NEW_BATCH = "/research/batches/new"
UNKNOWN_ID = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


def _compliance(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}


def _batches(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ResearchBatch)) or 0


@pytest.mark.parametrize(
    ("items", "field", "code"),
    [
        ({"languages": [""]}, "criteria.languages.0", "invalid_choice"),
        ({"languages": ["fi", "x" * 200]}, "criteria.languages.1", "invalid_choice"),
        ({"languages": ["de"]}, "criteria.languages.0", "invalid_choice"),
        ({"queues": [""]}, "criteria.queues.0", "invalid_length"),
        ({"queues": ["   "]}, "criteria.queues.0", "invalid_length"),
        ({"queues": ["billing", "q" * 200]}, "criteria.queues.1", "invalid_length"),
        ({"queues": ["q" * 101]}, "criteria.queues.0", "invalid_length"),
    ],
)
def test_a_criterion_item_no_call_is_stored_with_is_refused_naming_its_place(
    client: FlaskClient, session: Session, items: dict[str, Any], field: str, code: str
) -> None:
    headers = _compliance(session)
    body = batch_body(institute(session).id)
    body["criteria"] = {**body["criteria"], **items}
    session.commit()

    answer = client.post(BATCHES, json=body, headers=headers)

    assert answer.status_code == 422, answer.json
    assert (answer.json["error"], answer.json["field"]) == (code, field)
    assert set(answer.json) == {"error", "message", "field"} and answer.json["message"]
    assert _batches(session) == 0


def test_the_languages_and_queue_names_calls_are_stored_with_select_them(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    long_queue = "q" * 100
    for language, queue in [("sv", "billing"), ("auto", long_queue), ("fi", "billing"), ("sv", "sales")]:
        research_call(session, runtime.store, runtime.envelope, language=language, queue=queue)
    headers = _compliance(session)
    body = batch_body(institute(session).id)
    body["criteria"] = {**body["criteria"], "languages": ["sv", "auto"], "queues": [" billing ", long_queue]}
    session.commit()

    made = client.post(BATCHES, json=body, headers=headers)

    assert made.status_code == 201, made.json
    assert made.json["selected"] == 2
    assert made.json["criteria"]["queues"] == ["billing", long_queue]  # as the calls are stored: no padding


def test_the_selection_form_marks_the_list_holding_an_item_no_call_is_stored_with(
    officer_client: FlaskClient, session: Session
) -> None:
    today, later = utcnow().date(), utcnow().date() + timedelta(days=200)
    form = {
        "study": "Estimated bills",
        "purpose": "How agents explain estimated bills",
        "institute_id": institute(session).id,
        "from": "2026-11-01",
        "to": "2026-11-30",
        "sample_size": "10",
        "study_end": later.isoformat(),
        "access_start": f"{today.isoformat()}T08:00",
        "access_end": f"{later.isoformat()}T08:00",
        "audio": "redacted",
    }
    session.commit()

    language = post_form(officer_client, NEW_BATCH, {**form, "languages": "fi, xx"}, token_from=NEW_BATCH)
    queue = post_form(officer_client, NEW_BATCH, {**form, "queues": "billing, " + "q" * 101}, token_from=NEW_BATCH)

    language_page, queue_page = language.get_data(as_text=True), queue.get_data(as_text=True)
    assert language.status_code == 422 and "use the language codes calls are stored with: fi, sv, en, auto" in (
        language_page
    )
    assert 'name="languages" value="fi, xx" maxlength="200" aria-invalid="true"' in language_page
    assert queue.status_code == 422 and "a queue name has at most 100 characters" in queue_page
    assert 'name="queues" value="billing, ' + "q" * 101 + '" maxlength="2000" aria-invalid="true"' in queue_page
    assert _batches(session) == 0


def test_an_unknown_institute_is_refused_naming_the_field(client: FlaskClient, session: Session) -> None:
    headers = _compliance(session)
    session.commit()

    answer = client.post(BATCHES, json=batch_body(UNKNOWN_ID), headers=headers)

    assert answer.status_code == 404
    assert (answer.json["error"], answer.json["field"]) == ("not_found", "institute_id")
    assert _batches(session) == 0


def test_a_batch_selected_before_its_items_were_checked_still_builds(
    session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    """A draft kept from before holds criteria now refused; the build checks its calls by id, not the criteria."""
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    batch = approved_batch(sample_size=1)
    batch.criteria = {**batch.criteria, "languages": ["en", ""], "queues": ["sales", "q" * 200]}
    session.commit()

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    assert (batch.state, batch.build_done, batch.build_error) == (BatchState.READY, 1, None)
