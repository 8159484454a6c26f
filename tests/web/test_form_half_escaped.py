"""A letter sent half percent-escaped (`%C3` then the raw byte 0xA4: "ä", as a script may send it) is read as the
letter, in a form and in a query string.

Found by an exploratory pass over every form after af14939: each half was decoded apart and kept as a lone
surrogate, so the value was UTF-8 as a whole, passed the check of UTF-8, and then could not be written to the
database or a page: a 500, at the sign-in for anyone (before af14939, Werkzeug dropped such a form whole: a 400).
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service.models import Annotation, Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.recordings import make_recording, make_token
from tests.factories.reviews import make_transcribed_call
from tests.page_text import visible_text

FORM = "application/x-www-form-urlencoded"


def comment(
    client: FlaskClient, session: Session, runtime: Runtime, text: bytes, *, language: str = "en"
) -> tuple[Recording, TestResponse]:
    """A supervisor's comment on a call, its text sent as the bytes given, URL-encoded as a script may send it."""
    call = make_transcribed_call(session, runtime.store, runtime.envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = f"/calls/{call.id}"
    body = b"csrf_token=" + csrf_token(client, page).encode() + b"&at_s=1&text=" + text
    answer = client.post(f"{page}/annotations", data=body, content_type=FORM, headers={"Accept-Language": language})
    return call, answer


def test_a_sign_in_with_a_half_escaped_letter_is_a_wrong_password_not_a_500(
    client: FlaskClient, session: Session
) -> None:
    make_user(session, username="asa", password="correct horse battery")
    token = csrf_token(client, "/login")

    answer = client.post(
        "/login", data=b"csrf_token=" + token.encode() + b"&username=as%C3\xa4&password=x", content_type=FORM
    )

    assert answer.status_code == 401, answer.status_code


def test_a_comment_with_a_half_escaped_letter_is_stored_as_the_letter(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call, answer = comment(client, session, runtime, b"hyv%C3\xa4")

    assert answer.status_code == 302, answer.get_data(as_text=True)
    note = session.scalars(select(Annotation).where(Annotation.recording_id == call.id)).one()
    assert note.text == "hyvä"


def test_a_query_with_a_half_escaped_letter_asks_for_the_letter(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope, agent_ref="Mäkelä")
    session.commit()
    reader = {"Authorization": "Bearer " + make_token(session, role=Role.QA_SUPERVISOR, scope="read")}
    # A WSGI environ's strings hold bytes as Latin-1 characters: "\xa4" is the raw byte 0xA4.

    answer = client.get(
        "/api/v1/recordings", headers=reader, environ_overrides={"QUERY_STRING": "agent_ref=M%C3%A4kel%C3\xa4"}
    )
    unknown = client.get("/api/v1/recordings", headers=reader, environ_overrides={"QUERY_STRING": "%C3\xa4=1"})

    assert answer.status_code == 200, answer.get_json()
    assert [item["id"] for item in answer.get_json()["items"]] == [call.id]
    assert (unknown.status_code, unknown.get_json()["field"]) == (422, "ä")


def test_a_page_form_field_not_in_utf8_is_named_in_the_readers_language(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """Found by the same pass: the error page said "the field is not UTF-8 text", in English, naming no field."""
    _, answer = comment(client, session, runtime, b"hyv%E4", language="fi")

    assert answer.status_code == 422
    assert "text ei ole UTF-8-tekstiä: lähetä se uudelleen sivulta" in visible_text(answer.get_data(as_text=True))
    assert session.scalars(select(Annotation)).all() == []
