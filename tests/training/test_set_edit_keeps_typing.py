"""A refused change of a set's title or description (a title of spaces only, a description too long once its
personal data is replaced by placeholders) went back to the set's page with the message only: what the trainer had
typed was lost, a long description with it. The page now comes back with the title and description as typed and
the message beside the field."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import TrainingSet, User
from recordings_service.runtime import Runtime
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.page_text import visible_text

# Within the form's 5,000 characters as typed; each identity code becomes the longer [PERSONAL_ID].
LONG = "Listen for how the agent checks 131052-308T. " * 111


def test_a_refused_edit_comes_back_as_typed_with_the_reason_beside_the_field(
    app: Flask, session: Session, runtime: Runtime, trainer: User
) -> None:
    made = sets.create_set(
        session, runtime.envelope, actor=actor_of(trainer), title="Openings", rules=TrainingRules()
    ).made
    session.commit()
    client = client_of(app, trainer)
    path = f"/training/sets/{made.id}"
    token = csrf_token(client, path)
    assert len(LONG) <= sets.MAX_DESCRIPTION

    blank = client.post(f"{path}/edit", data={"title": "   ", "description": "Keep this", "csrf_token": token})
    html = blank.get_data(as_text=True)
    assert blank.status_code == 422
    assert "give it a title" in visible_text(html) and ">Keep this</textarea>" in html
    assert 'name="title" value="   " required maxlength="200" aria-invalid="true"' in html

    long = client.post(f"{path}/edit", data={"title": "Identity checks", "description": LONG, "csrf_token": token})
    html = long.get_data(as_text=True)
    assert long.status_code == 422
    assert "too long once its personal data is replaced" in visible_text(html)
    assert 'value="Identity checks"' in html and "Listen for how the agent checks 131052-308T." in html
    assert 'maxlength="5000" aria-invalid="true"' in html

    session.expire_all()
    kept = session.get_one(TrainingSet, made.id)
    assert (kept.title, kept.description) == ("Openings", "")
