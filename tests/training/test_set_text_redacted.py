"""A training set's title and description go to every trainer it is shared with and into its exports, so they
are kept with personal data redacted, as a clip's title and notes are (found by review: a description typed as
"Liisa Mäkinen's call, she asked us to call back on 040 123 4567" was kept and shown as typed). The text's
language is not known: the cues of Finnish, Swedish and English are each looked for."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import TrainingSet
from recordings_service.models.account import Role
from recordings_service.training.sets import MAX_DESCRIPTION
from tests.factories.recordings import make_token
from tests.factories.training import bearer

SETS = "/api/v1/training/sets"


def test_personal_data_in_a_sets_title_and_description_is_kept_redacted(client: FlaskClient, session: Session) -> None:
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    typed = {
        "title": "Callbacks to 040 123 4567",
        "description": "Asiakas kertoi: nimeni on Liisa Mäkinen. Email liisa.makinen@example.com",
    }

    made = client.post(SETS, headers=trainer, json=typed)

    assert made.status_code == 201, made.get_data(as_text=True)
    shown = made.get_json()
    assert shown["title"] == "Callbacks to [PHONE]"
    assert shown["description"] == "Asiakas kertoi: nimeni on [PERSON]. Email [EMAIL]"
    stored = session.get_one(TrainingSet, shown["id"])
    assert (stored.title, stored.description) == (shown["title"], shown["description"])

    path = f"{SETS}/{shown['id']}"
    changed = client.patch(path, headers=trainer, json={"description": "Jag heter Anders Berg, hör av dig"})
    assert changed.status_code == 200 and changed.get_json()["description"] == "Jag heter [PERSON], hör av dig"
    again = client.patch(path, headers=trainer, json={"title": typed["title"]})  # as typed before: no change
    assert again.status_code == 200 and again.get_json()["title"] == "Callbacks to [PHONE]"


def test_text_the_placeholders_make_too_long_is_refused_not_cut(client: FlaskClient, session: Session) -> None:
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    description = "x" * (MAX_DESCRIPTION - len(" a@b.fi")) + " a@b.fi"  # [EMAIL] is a character longer

    refused = client.post(SETS, headers=trainer, json={"title": "Openings", "description": description})

    assert refused.status_code == 422 and refused.get_json()["field"] == "description", refused.get_json()
    plain = client.post(SETS, headers=trainer, json={"title": "Openings", "description": "Calm, clear openings"})
    assert plain.status_code == 201 and plain.get_json()["description"] == "Calm, clear openings"
