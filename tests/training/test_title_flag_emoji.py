"""A title or a tag holding the flag of Scotland, England or Wales (an emoji tag sequence: U+1F3F4, tag letters
U+E0067…, U+E007F) is visible text, as other emoji are."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.runtime import Runtime
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, training_call
from tests.training.test_title_visible_text import api  # noqa: F401  (the fixture)

SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize("field", ["title", "tags"])
def test_a_subdivision_flag_is_taken(
    api: tuple[FlaskClient, dict[str, str], User],  # noqa: F811
    session: Session,
    runtime: Runtime,
    field: str,
) -> None:
    client, token, author = api
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    text = f"Soittaja {SCOTLAND} Glasgow"
    body = {"title": text} if field == "title" else {"tags": [text]}
    taken = client.patch(f"/api/v1/training/clips/{clip.id}", json=body, headers=token)
    assert taken.status_code == 200, taken.get_data(as_text=True)
