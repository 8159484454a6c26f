"""Found by review: the per-agent table of the score trends pages counted, beside each agent's average, every
submitted evaluation, also those answered N/A throughout, which have no score and are not in the average: two
evaluations, one of them 80 and the other all N/A, read "average 80 over 2". The count beside the average is now of
the evaluations it averages, with those without a score counted in a column of their own; drafts count in
neither."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.evaluations import scoring, trends
from recordings_service.evaluations.forms import FormSpec, QuestionSpec, SectionSpec
from recordings_service.models import EvaluationForm, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording
from tests.page_text import visible_text

QUEUE = "agents-table"
# Yes / No / N/A only, equal weights: "yes", "no" scores 50; "na", "na" has no score.
TWO_QUESTIONS = FormSpec(
    name="Two questions", sections=(SectionSpec("Call", (QuestionSpec("Greeting", 1.0), QuestionSpec("Close", 1.0))),)
)


@pytest.fixture
def evaluator(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR)


@pytest.fixture
def form(session: Session, evaluator: User) -> EvaluationForm:
    return published_form(session, actor_of(evaluator), TWO_QUESTIONS)


def evaluate(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    actor: Actor,
    form: EvaluationForm,
    *,
    agent_ref: str,
    values: list[str],
    draft: bool = False,
) -> None:
    call = make_recording(session, store, envelope, agent_ref=agent_ref, queue=QUEUE)
    given = answers(form, values)
    save = scoring.save_draft if draft else scoring.evaluate_call
    save(session, actor=actor, recording_id=call.id, form_id=form.id, answers=given)


@pytest.fixture
def evaluated(session: Session, store: ObjectStore, envelope: Envelope, evaluator: User, form: EvaluationForm) -> None:
    """ann: 100, 50 and one all N/A; ben: only all N/A; cid: 0, and a draft that never counts."""
    actor = actor_of(evaluator)
    for agent_ref, values, draft in (
        ("ann", ["yes", "yes"], False),
        ("ann", ["yes", "no"], False),
        ("ann", ["na", "na"], False),
        ("ben", ["na", "na"], False),
        ("cid", ["no", "no"], False),
        ("cid", ["yes", "yes"], True),
    ):
        evaluate(session, store, envelope, actor, form, agent_ref=agent_ref, values=values, draft=draft)


@pytest.mark.usefixtures("evaluated")
def test_the_count_beside_an_agents_average_is_of_the_evaluations_it_averages(session: Session) -> None:
    agents = trends.agent_scores(session, since=utcnow() - timedelta(hours=1), queue=QUEUE)

    assert [(a.agent_ref, a.average, a.count) for a in agents] == [("ann", 75.0, 2), ("cid", 0.0, 1), ("ben", None, 0)]
    assert [a.unscored for a in agents] == [1, 0, 1]


@pytest.mark.usefixtures("evaluated")
def test_the_agents_table_heads_each_count_with_what_it_counts(client: FlaskClient, evaluator: User) -> None:
    login(client, evaluator)

    html = client.get(f"/queues/{QUEUE}", headers={"Accept-Language": "en"}).get_data(as_text=True)

    caption = html.index("Average score per agent</caption>")
    table = html[caption : html.index("</table>", caption)]
    cells = [visible_text(row).split() for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)]
    assert cells == [
        ["Agent", "Average", "score", "Scored", "evaluations", "Not", "scored", "(all", "N/A)"],
        ["ann", "75.0", "2", "1"],
        ["cid", "0.0", "1", "0"],
        ["ben", "—", "0", "1"],
    ]
