"""A query parameter whose percent-escapes stand for bytes that are not UTF-8 (`?q=%C4nne`: Latin-1's Ä) is refused,
422 `not_utf8` naming it and saying where the byte stands, as a form field is: Werkzeug kept such an escape as text,
so a search ran for "%C4nne" and a filter for the customer "%FF" (no results, for a customer who has some), and a raw
such byte in the query was a 500. Found by checking the query string against the form fields' fix (af14939).

Refused in the same before-request pass as the NUL character, so after authorization as that is: a request with no
credentials is still told 401 (a page: sent to sign in), one of a role or scope without access 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.factories.recordings import make_token
from tests.page_text import visible_text

# Finnish ä, Swedish å and an emoji: UTF-8 text, which the check leaves as it is.
GOOD_REF = "CRM-Mäkelä-Åström-🙂"


def bearer(session: Session, role: str, scope: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=role, scope=scope)}


def not_utf8(response: Any, field: str, where: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], body["field"]) == ("not_utf8", field)
    assert body["message"] == (
        f"the query parameter is not UTF-8 text ({where} is not UTF-8); send it percent-encoded as UTF-8"
    )


@pytest.mark.parametrize(
    ("url", "role", "scope", "field", "where"),
    [
        ("/api/v1/search?q=%C4nne", Role.QA_SUPERVISOR, "read", "q", "byte 0xC4 at line 1 column 1"),
        ("/api/v1/search?q=M%E4kel%E4", Role.QA_SUPERVISOR, "read", "q", "byte 0xE4 at line 1 column 2"),
        (
            "/api/v1/recordings?limit=5&queue=sales%FF",
            Role.QA_SUPERVISOR,
            "read",
            "queue",
            "byte 0xFF at line 1 column 6",
        ),
        (
            "/api/v1/recordings?customer_ref=%FF",
            Role.COMPLIANCE,
            "read",
            "customer_ref",
            "byte 0xFF at line 1 column 1",
        ),
        (
            "/api/v1/subject-requests?customer_ref=%C4nne",
            Role.COMPLIANCE,
            "compliance",
            "customer_ref",
            "byte 0xC4 at line 1 column 1",
        ),
        # A name, as a form field's: quoted with U+FFFD for the byte.
        ("/api/v1/search?q=x&%C4q=1", Role.QA_SUPERVISOR, "read", "\ufffdq", "byte 0xC4 at line 1 column 1"),
    ],
)
def test_an_escape_of_a_byte_that_is_not_utf8_is_refused_naming_the_parameter(
    client: FlaskClient, session: Session, url: str, role: str, scope: str, field: str, where: str
) -> None:
    not_utf8(client.get(url, headers=bearer(session, role, scope)), field, where)


def test_a_raw_byte_that_is_not_utf8_is_refused_not_a_500(client: FlaskClient, session: Session) -> None:
    # gunicorn refuses such a request line itself; another server or proxy may pass it on (WSGI: as Latin-1).
    answer = client.get(
        "/api/v1/search",
        environ_overrides={"QUERY_STRING": "q=\xc4nne"},
        headers=bearer(session, Role.QA_SUPERVISOR, "read"),
    )
    not_utf8(answer, "q", "byte 0xC4 at line 1 column 1")


def test_authorization_is_answered_first_as_for_nul(client: FlaskClient, session: Session) -> None:
    assert client.get("/api/v1/search?q=%C4nne").status_code == 401
    trainer = bearer(session, Role.TRAINER, "training")
    assert client.get("/api/v1/subject-requests?customer_ref=%C4nne", headers=trainer).status_code == 403
    signing_in = client.get("/calls/?q=%C4nne")
    assert signing_in.status_code == 302 and "/login" in signing_in.headers["Location"]


def test_utf8_text_in_a_query_finds_what_it_names(client: FlaskClient, session: Session) -> None:
    headers = bearer(session, Role.COMPLIANCE, "compliance")
    received = {"kind": "access", "received_at": "2024-01-02T00:00:00Z"}
    made = client.post("/api/v1/subject-requests", json={"customer_ref": GOOD_REF, **received}, headers=headers)
    assert made.status_code == 201, made.get_json()

    listed = client.get(f"/api/v1/subject-requests?customer_ref={quote(GOOD_REF)}", headers=headers)

    assert listed.status_code == 200, listed.get_json()
    assert [item["customer_ref"] for item in listed.get_json()["items"]] == [GOOD_REF]
    reader = bearer(session, Role.QA_SUPERVISOR, "read")
    searched = client.get(f"/api/v1/search?q={quote('hyvää päivää å 🙂')}+and%20more", headers=reader)
    assert searched.status_code == 200, searched.get_json()


def test_a_page_refuses_it_with_the_error_page(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    session.commit()
    for url, name in (
        ("/calls/?q=%C4nne", "q"),
        ("/subjects/?customer_ref=%FF", "customer_ref"),
        ("/calls/?%C4=1", "\ufffd"),
    ):
        page = client.get(url)
        assert page.status_code == 422 and page.mimetype == "text/html", url
        assert f"{name} is not UTF-8 text: send it again from the page" in visible_text(page.get_data(as_text=True))
    good = client.get(f"/subjects/?customer_ref={quote(GOOD_REF)}")
    assert good.status_code == 200
    assert GOOD_REF in good.get_data(as_text=True)


def test_a_raw_byte_in_a_signed_out_pages_query_is_kept_for_after_signing_in(client: FlaskClient) -> None:
    """Found by the same work: a page asked for before signing in is remembered by its address, which Werkzeug's
    `full_path` decoded strictly, so a raw byte that is not UTF-8 (a WSGI environ holds bytes as Latin-1 characters)
    was a 500 for anyone. A browser escapes it; it comes back escaped, to be refused once signed in."""
    raw = client.get("/calls/", environ_overrides={"QUERY_STRING": "q=\xc4nne&queue=s%C3%A4hk%C3%B6"})
    escaped = client.get("/calls/", query_string={"q": "Änne"})

    assert raw.status_code == 302
    assert raw.headers["Location"] == "/login?next=/calls/?q%3D%25C4nne%26queue%3Ds%25C3%25A4hk%25C3%25B6"
    assert escaped.headers["Location"] == "/login?next=/calls/?q%3D%25C3%2584nne"
