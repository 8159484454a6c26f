"""A JSON body whose bytes are not UTF-8 is refused as such: 422 `not_utf8` naming `body`, saying where the first such
byte stands (or which encoding the body is in), as a form field or an ingest's metadata is. Found by an exploratory
pass: `{"title": "Ä"}` sent in Latin-1 was told "the request body must be a JSON object", and a body in UTF-16 "not
valid JSON: expected value at line 1 column 1", which sent the client looking at its braces.

The same answer wherever the body is read: the API's validation, and the app-wide check of NUL, which parses a body
holding `\\u0000` before any view does. RFC 8259: JSON exchanged between systems is UTF-8, and its media type has no
charset parameter ("adding one really has no effect"): the bytes decide, a declared charset is named in the refusal,
and a UTF-8 byte order mark, which a parser may ignore, is let through.
"""

from __future__ import annotations

import codecs
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import LegalHold, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_token
from tests.factories.training import bearer, clip_row, training_call

HOLD = '{"customer_ref": "CRM-Mäkelä", "reason": "dispute"}'
ADVICE = "send it encoded in UTF-8, as JSON is exchanged (RFC 8259)"


def compliance(session: Session) -> dict[str, str]:
    return bearer(make_token(session, role=Role.COMPLIANCE, scope="compliance"))


def post_hold(client: FlaskClient, session: Session, body: bytes, content_type: str = "application/json") -> Any:
    return client.post("/api/v1/legal-holds", data=body, content_type=content_type, headers=compliance(session))


def not_utf8(response: Any, found: str, *, advice: str = ADVICE) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], body["field"]) == ("not_utf8", "body")
    assert body["message"] == f"the request body is not UTF-8 text ({found}); {advice}"


def holds(session: Session) -> list[str]:
    session.expire_all()
    return [hold.customer_ref or "" for hold in session.scalars(select(LegalHold))]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        pytest.param(HOLD.encode("latin-1"), "byte 0xE4 at line 1 column 24 is not UTF-8", id="latin-1"),
        pytest.param(
            HOLD.replace("dispute", "dispute\\u0000").encode("cp1252"),
            "byte 0xE4 at line 1 column 24 is not UTF-8",
            id="beside-a-nul-escape",  # parsed by the check of NUL first
        ),
        pytest.param(
            b'{"customer_ref": "CRM",\n "reason": "\xed\xa0\x80"}',
            "byte 0xED at line 2 column 13 is not UTF-8",
            id="an-encoded-surrogate",
        ),
        pytest.param(HOLD.encode("utf-16"), "it is UTF-16 text", id="utf-16-with-bom"),
        pytest.param(HOLD.encode("utf-16-le"), "it is UTF-16 text", id="utf-16-le"),
        pytest.param(HOLD.encode("utf-16-be"), "it is UTF-16 text", id="utf-16-be"),
        pytest.param(HOLD.encode("utf-32"), "it is UTF-32 text", id="utf-32-with-bom"),
        pytest.param(HOLD.encode("utf-32-le"), "it is UTF-32 text", id="utf-32-le"),
        pytest.param(HOLD.encode("utf-32-be"), "it is UTF-32 text", id="utf-32-be"),
    ],
)
def test_a_json_body_not_in_utf8_is_refused_saying_where(
    client: FlaskClient, session: Session, body: bytes, found: str
) -> None:
    response = post_hold(client, session, body)
    not_utf8(response, found)
    assert holds(session) == []


def test_a_clip_title_sent_in_latin1_is_refused_as_not_utf8(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    headers = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    author = session.scalars(select(User).where(User.role == Role.TRAINER)).one()
    clip = clip_row(session, training_call(session, runtime.store, runtime.envelope), actor_of(author))
    session.commit()

    response = client.patch(
        f"/api/v1/training/clips/{clip.id}", data=b'{"title": "\xc4"}', content_type="application/json", headers=headers
    )

    not_utf8(response, "byte 0xC4 at line 1 column 12 is not UTF-8")


@pytest.mark.parametrize(
    ("charset", "body", "found"),
    [
        pytest.param("iso-8859-1", HOLD.encode("latin-1"), "byte 0xE4 at line 1 column 24 is not UTF-8", id="latin-1"),
        pytest.param("UTF-16", HOLD.encode("utf-16"), "it is UTF-16 text", id="utf-16"),
    ],
)
def test_a_declared_charset_is_not_read_and_the_refusal_names_it(
    client: FlaskClient, session: Session, charset: str, body: bytes, found: str
) -> None:
    response = post_hold(client, session, body, f"application/json; charset={charset}")
    not_utf8(response, found, advice=f"{ADVICE}; the charset it declares ({charset}) is not read")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(HOLD.encode(), "application/json; charset=utf-16", id="utf-8-declared-utf-16"),
        pytest.param(HOLD.encode(), "application/json; charset=UTF-8", id="utf-8-declared"),
        pytest.param(codecs.BOM_UTF8 + HOLD.encode(), "application/json", id="utf-8-with-bom"),
    ],
)
def test_utf8_text_is_taken_whatever_charset_is_declared_and_with_a_byte_order_mark(
    client: FlaskClient, session: Session, body: bytes, content_type: str
) -> None:
    response = post_hold(client, session, body, content_type)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert holds(session) == ["CRM-Mäkelä"]


def test_a_nul_escape_in_a_body_with_a_byte_order_mark_is_still_refused_naming_its_field(
    client: FlaskClient, session: Session
) -> None:
    body = codecs.BOM_UTF8 + HOLD.replace("dispute", "dis\\u0000pute").encode()
    response = post_hold(client, session, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert (response.get_json()["error"], response.get_json()["field"]) == ("invalid_character", "reason")


def test_a_request_without_credentials_is_still_told_401(client: FlaskClient) -> None:
    response = client.post("/api/v1/legal-holds", data=HOLD.encode("latin-1"), content_type="application/json")
    assert response.status_code == 401


def test_the_check_of_nul_tells_a_body_it_parses_that_it_is_not_utf8(client: FlaskClient, session: Session) -> None:
    """A list's GET reads no body, but the app-wide check of NUL parses one that spells NUL (and refuses it, sent as
    UTF-8): sent in Latin-1, such a body went by unparsed and unrefused."""
    headers = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="read"))
    body = '{"queue": "Myynti\\u0000", "note": "ä"}'
    sent = {"content_type": "application/json", "headers": headers}

    as_utf8 = client.get("/api/v1/recordings", data=body.encode(), **sent)
    assert (as_utf8.status_code, as_utf8.get_json()["field"]) == (422, "queue")
    not_utf8(
        client.get("/api/v1/recordings", data=body.encode("latin-1"), **sent),
        "byte 0xE4 at line 1 column 36 is not UTF-8",
    )
