"""The call page's comments: a numbered list when there are some, a plain sentence when there are none."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.reviews import make_transcribed_call


def comments_section(html: str) -> str:
    found = re.search(r'<section class="comments".*?</section>', html, re.S)
    assert found, "the call page has its comments section"
    return found.group(0)


def test_no_comments_is_a_sentence_not_a_numbered_item(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = f"/calls/{call.id}"
    section = comments_section(client.get(page).get_data(as_text=True))
    assert "<ol" not in section and "<li" not in section
    assert '<p class="empty">No comments yet.</p>' in section

    post_form(client, f"{page}/annotations", {"at_s": "3", "text": "Greeting"}, token_from=page)
    section = comments_section(client.get(page).get_data(as_text=True))
    assert section.count("<li>") == 1 and "Greeting" in section and "No comments yet." not in section
