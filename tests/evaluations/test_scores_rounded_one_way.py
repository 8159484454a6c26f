"""A score reads the same wherever it is shown: the confirmation, the CSV export, the dashboard and the trends.

Found by exploratory testing in Finnish: an evaluation of 82.35 read "82,4 / 100" in its confirmation, the call list
and the evaluation page (Babel rounds the written digits, half to even) but 82,3 in calls.csv, the dashboard's week
and the queue trends (Python rounds the binary fraction 82.3499…). Half a tenth now rounds up everywhere."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.decimals import one_decimal
from recordings_service.evaluations.trends import weekly_scores
from recordings_service.models.evaluation import EvaluationState
from recordings_service.spreadsheets import COMMAS, SEMICOLONS
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.recordings import make_recording
from tests.factories.training import scorer
from web.i18n import decimal
from web.ui.charts import number


@pytest.mark.parametrize(("value", "shown"), [(82.35, "82.4"), (82.25, "82.3"), (0.05, "0.1"), (99.95, "100.0")])
def test_every_formatter_rounds_half_a_tenth_up(app: Flask, value: float, shown: str) -> None:
    assert f"{one_decimal(value):.1f}" == shown
    assert (COMMAS.number(value), SEMICOLONS.number(value)) == (shown, shown.replace(".", ","))
    with app.test_request_context(headers={"Accept-Language": "fi"}):
        assert decimal(value) == number(value) == shown.replace(".", ",")


def test_a_weeks_average_of_one_evaluation_is_its_score_as_shown(
    session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    evaluation = scorer(session)(make_recording(session, store, envelope, queue="rounding"), 82.35)
    evaluation.state, evaluation.submitted_at = EvaluationState.SUBMITTED, utcnow()
    session.flush()

    [week] = weekly_scores(session, weeks=1, queue="rounding")

    assert week.average == 82.4
