"""The evaluation pages' charts: per question, per agent, critical-failure rate, with readable ISO-week labels
and a table of the same numbers beside each chart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.evaluations import trends
from recordings_service.evaluations.default_form import DEFAULT_FORM
from recordings_service.models.account import Role
from recordings_service.models.evaluation import EvaluationState
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import scored, seeded_form
from web.i18n import FORM_TEXTS, week_label


def test_week_labels_read_as_weeks(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert week_label(date(2026, 11, 23)) == "Week 48, 2026"
        assert week_label(date(2026, 12, 28)) == "Week 53, 2026"  # ISO: 2026 has 53 weeks
        assert week_label(date(2024, 12, 30)) == "Week 1, 2025"  # the ISO year, not the calendar year


def test_answer_points_put_each_answer_type_on_0_to_100() -> None:
    assert [trends.answer_points("yes_no_na", value) for value in ("yes", "no", "na")] == [100.0, 0.0, None]
    assert [trends.answer_points("scale_1_5", value) for value in ("1", "3", "5", "x")] == [0.0, 50.0, 100.0, None]


def test_question_agent_and_critical_failure_figures(
    session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    form = seeded_form(session)
    evaluator = make_user(session, role=Role.QA_SUPERVISOR)
    queue = f"q-{form.id[-6:]}-{utcnow().microsecond}"
    # ann passes everything; ben fails a critical question; ben's draft (all "no") never counts.
    for agent_ref, value, failed, score, state in (
        ("ann", "yes", False, 90.0, EvaluationState.SUBMITTED),
        ("ben", "no", True, 0.0, EvaluationState.SUBMITTED),
        ("ben", "no", False, 80.0, EvaluationState.DRAFT),
    ):
        scored(
            session,
            store,
            envelope,
            form=form,
            evaluator=evaluator,
            agent_ref=agent_ref,
            queue=queue,
            value=value,
            critical_failed=failed,
            score=score,
            state=state,
        )
    since = utcnow() - timedelta(days=1)

    questions = trends.question_scores(session, since=since, queue=queue)
    assert [item.question for item in questions] == [q.text for q in form.questions]  # form order
    by_text = {item.question: item for item in questions}
    assert by_text["Summarised the need back to the customer"].average == 50.0  # one yes, one no
    assert by_text["Tone and courtesy throughout the call"].average == 75.0  # 4 on the scale, twice
    assert by_text["Summarised the need back to the customer"].answers == 2
    assert by_text[DEFAULT_FORM.sections[3].questions[0].text].critical

    agents = trends.agent_scores(session, since=since, queue=queue)
    assert [(item.agent_ref, item.average, item.count) for item in agents] == [("ann", 90.0, 1), ("ben", 0.0, 1)]

    weeks = trends.weekly_critical_failures(session, weeks=2, queue=queue, tz=UTC)
    assert (weeks[-1].rate, weeks[-1].failed, weeks[-1].count) == (50.0, 1, 2)
    assert weeks[0].rate is None


def test_the_queue_page_shows_the_charts_with_tables_and_week_labels(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    form = seeded_form(session)
    evaluator = make_user(session, role=Role.QA_SUPERVISOR)
    queue = f"charts-{utcnow().microsecond}"
    scored(session, store, envelope, form=form, evaluator=evaluator, agent_ref="ann", queue=queue, value="yes")
    login(client, evaluator)

    page = client.get(f"/queues/{queue}", headers={"Accept-Language": "en"}).get_data(as_text=True)

    for chart_id in ("per-question", "per-agent", "critical-failures", "trend"):
        assert f'<svg class="chart" id="{chart_id}" role="img"' in page
    monday = datetime.now(UTC).date()  # the organisation's week may start a day apart; either label is a week
    assert "Week " in page and f", {monday.isocalendar()[0]}" in page
    # No machine week labels (2026-W49) left; a bare "-W" may be in the page's random CSRF token (1 run in ~50).
    assert re.search(r"\d{4}-W\d{2}", page) is None
    assert "Summarised the need back to the customer" in page and ">ann</a>" in page
    assert page.count("<table") >= 4  # a table beside each chart


@pytest.mark.parametrize("section", DEFAULT_FORM.sections, ids=lambda section: section.title)
def test_every_text_of_the_seeded_form_can_be_translated(section: object) -> None:
    texts = [DEFAULT_FORM.name, DEFAULT_FORM.description, section.title]  # type: ignore[attr-defined]
    texts += [question.text for question in section.questions]  # type: ignore[attr-defined]
    assert [text for text in texts if text not in FORM_TEXTS] == []
