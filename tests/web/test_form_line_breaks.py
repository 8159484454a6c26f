"""Found by exploratory testing: a browser sends a textarea's line breaks as CRLF while its maxlength counts each
as one character, so text typed up to the limit with line breaks was refused as too long. Every form's text
reaches the views with LF line breaks (web/form_text.py), whichever page's textarea it came from."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls.review import MAX_ANNOTATION_CHARS
from recordings_service.models import Annotation
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.reviews import make_transcribed_call


def test_a_call_comment_of_exactly_maxlength_characters_with_crlf_line_breaks_is_taken(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = f"/calls/{call.id}"
    # 2000 characters as the textarea counts them: 10 lines, 9 line breaks, one of them a lone CR.
    lines = ["a" * 199] * 9 + ["b" * (MAX_ANNOTATION_CHARS - 9 * 200)]
    typed = "\n".join(lines)
    assert len(typed) == MAX_ANNOTATION_CHARS
    sent = "\r\n".join(lines[:8]) + "\r" + "\r\n".join(lines[8:])
    response = post_form(client, f"{page}/annotations", {"at_s": "1", "text": sent}, token_from=page)
    assert response.status_code == 302
    note = session.scalars(select(Annotation).where(Annotation.recording_id == call.id)).one()
    assert note.text == typed
