"""Found by exploratory testing: the call list shows a score to a tenth (66.67 as 66,7), and its filter "Score from
66,7" compared the stored score, leaving that call out, and "Score to 66,6" left out 66.62 and 66.64, shown as
66,6. A bound typed on the page now takes every call whose score the page shows as within it, and every call whose
score is; the API keeps comparing the scores it returns."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.search import evaluate, random_day, transcribed_call
from tests.web.reader_language import FINNISH

SCORES = (66.6, 66.62, 66.64, 66.65, 66.67, 66.7, 66.74, 66.75)


@pytest.mark.parametrize(
    ("bounds", "shown"),
    [
        ({"score_min": "66,7"}, ("66,7", "66,7", "66,7", "66,7", "66,8")),
        ({"score_max": "66,6"}, ("66,6", "66,6", "66,6")),
        ({"score_min": "66,65", "score_max": "66,7"}, ("66,7", "66,7", "66,7", "66,7")),
        # Typed more finely than the list shows, a bound is taken as typed.
        ({"score_min": "66,61", "score_max": "66,69"}, ("66,6", "66,6", "66,7", "66,7")),
    ],
)
def test_a_score_bound_takes_the_calls_the_list_shows_within_it(
    client: FlaskClient,
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    bounds: dict[str, str],
    shown: tuple[str, ...],
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    day = random_day()
    for minute, score in enumerate(SCORES):
        started: datetime = day + timedelta(minutes=minute)
        call = transcribed_call(session, store, envelope, started_at=started, lines=["hei"], queue="sales")
        evaluate(session, call, evaluator=supervisor, score=score)
    login(client, supervisor)

    query = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat(), "sort": "started", "dir": "asc"}
    page = client.get("/calls/", query_string=query | bounds, headers=FINNISH)

    assert page.status_code == 200
    listed = [cell for cell in page.get_data(as_text=True).split("<td>") if cell.startswith("66,")]
    assert tuple(cell.split("<", 1)[0] for cell in listed) == shown
