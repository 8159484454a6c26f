"""Found by nominating a span from the Finnish call page: a span with one end, starting before 0 s, ending before it
starts or past the call was refused in the core's English ('must be at or after 0 s'), the only nomination refusals
not listed for translation. Each now has its `why` and is said as listed (web/ui/messages/training.py)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

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
    recording = make_transcribed_call(session, store, envelope, redacted=True, purposes=["training"])
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    return recording


@pytest.mark.parametrize(
    ("span", "said"),
    [
        ({"start_s": "5"}, "give both ends of the span, or leave both empty"),
        ({"start_s": "-1", "end_s": "3"}, "the span must start at or after 0 s"),
        ({"start_s": "5", "end_s": "3"}, "the span must end after it starts"),
        ({"start_s": "5", "end_s": "300"}, "the span must be within the call (23.7 s)"),
    ],
    ids=["one-end", "before-start", "ends-first", "past-call"],
)
def test_a_refused_span_is_said_as_listed_and_kept_as_typed(
    client: FlaskClient, call: Recording, span: dict[str, str], said: str
) -> None:
    page = f"/calls/{call.id}"
    form = {"kind": "good_example", **span}
    response = post_as(client, f"{page}/nominations", form, token_from=page, headers=ENGLISH)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert said in visible_text(html)
    assert f'name="start_s" type="number" min="0" max="{call.duration_s}" step="0.1" value="{span["start_s"]}"' in html


def test_a_refused_kind_marks_the_radio_group_and_is_described_by_the_refusal(
    client: FlaskClient, call: Recording
) -> None:
    """Found by the Finnish and keyboard pass: a refused kind (a value no radio button offers, from a stale page) was
    said above the form, and the group it was about was not marked for a screen reader."""
    page = f"/calls/{call.id}"
    response = post_as(client, f"{page}/nominations", {"kind": "best_ever"}, token_from=page, headers=ENGLISH)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    group = re.search(r'<div class="choices" role="radiogroup"[^>]*>', html)
    assert group is not None
    assert 'aria-invalid="true"' in group.group(0) and 'aria-describedby="nomination-error"' in group.group(0)
    assert 'id="nomination-error"' in html
