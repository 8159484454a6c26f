"""Found by review (as in research batches): a sample's `queues` and `languages` took an empty item, or one of 200
characters, which no call is stored with, so the sample drew nothing and said only that nothing matched. Each item
is now one calls can be stored with, refused naming its place on the API and, on the sample page, beside the list's
field with what every item must be."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, sampled_calls, training_call

SAMPLES = "/api/v1/training/samples"


@pytest.mark.parametrize(
    ("items", "field", "code"),
    [
        ({"languages": [""]}, "languages.0", "invalid_choice"),
        ({"languages": ["fi", "x" * 200]}, "languages.1", "invalid_choice"),
        ({"queues": ["  "]}, "queues.0", "invalid_length"),
        ({"queues": ["billing", "q" * 101]}, "queues.1", "invalid_length"),
    ],
)
def test_an_item_no_call_is_stored_with_is_refused_naming_its_place(
    client: FlaskClient, session: Session, items: dict[str, Any], field: str, code: str
) -> None:
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()

    answer = client.post(SAMPLES, json={"size": 5, **items}, headers=trainer)

    assert answer.status_code == 422, answer.json
    assert (answer.json["error"], answer.json["field"]) == (code, field)


@pytest.mark.parametrize(
    ("name", "typed", "said"),
    [
        ("queues", "billing, " + "q" * 101, "a queue name has at most 100 characters"),
        ("languages", "fi, de", "use the language codes calls are stored with: fi, sv, en, auto"),
    ],
)
def test_the_sample_page_marks_the_lists_field_and_says_what_each_item_must_be(
    trainer_client: FlaskClient, name: str, typed: str, said: str
) -> None:
    page = trainer_client.get("/training/", query_string={name: typed, "size": 5})

    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert said in text
    assert f'id="{name}" name="{name}"' in text and 'aria-invalid="true"' in text.split(f'id="{name}"')[1][:400]


def test_the_languages_and_queues_calls_are_stored_with_still_select_them(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    wanted = training_call(session, runtime.store, runtime.envelope, language="sv", queue="billing")
    training_call(session, runtime.store, runtime.envelope, language="fi", queue="billing")
    session.commit()

    page = trainer_client.get("/training/", query_string={"languages": "sv", "queues": " billing ", "size": 5})

    assert page.status_code == 200
    assert sampled_calls(page.get_data(as_text=True)) == [wanted.id]
