"""What a submit of the call page's evaluation panel did is said in the panel, and the page opens at it.

Found by exploratory testing with the keyboard: after Submit with a question unanswered the page reloaded at the
panel's start with focus on the page, and the refusal was a status line at the top of the page, 400 pixels out of
view; a saved score's confirmation likewise. The page now opens at the panel's message (`#evaluation-said`), which
call_page.js focuses as it does a posted comment's confirmation."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, make_user
from tests.factories.evaluations import seeded_form
from tests.factories.reviews import make_transcribed_call
from tests.factories.staff import client_of


def _said_in_panel(page: str) -> str:
    """The text of the panel's message element; empty when there is none."""
    start = page.find('id="evaluation-said"')
    return "" if start < 0 else page[start : page.index("</div>", start)]


def test_a_refused_and_a_saved_submit_are_said_in_the_panel_where_the_page_opens(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    form = seeded_form(session)
    call = make_transcribed_call(session, store, envelope)
    client = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    page = f"/calls/{call.id}"
    first = form.questions[0]

    refused = client.post(
        f"{page}/evaluation",
        data={"form_id": form.id, f"answers.{first.id}": "yes", "csrf_token": csrf_token(client, page)},
    )

    assert refused.status_code == 302 and refused.location.endswith("#evaluation-said")
    shown = client.get(refused.location).get_data(as_text=True)
    assert "answer required" in _said_in_panel(shown)
    assert shown.index('id="evaluation-said"') > shown.index('id="evaluation-heading"')
    assert "answer required" not in shown[: shown.index('id="evaluation-heading"')]

    answers = {f"answers.{q.id}": "5" if q.answer_type == "scale_1_5" else "yes" for q in form.questions}
    saved = client.post(
        f"{page}/evaluation", data={"form_id": form.id, **answers, "csrf_token": csrf_token(client, page)}
    )

    assert saved.location.endswith("#evaluation-said")
    assert "Evaluation saved" in _said_in_panel(client.get(saved.location).get_data(as_text=True))
