"""Found by an integrator's exploratory pass: ingest metadata sent as a form field (as `requests`' `data=` sends it)
in a legacy code page was decoded with its ä and ö replaced (U+FFFD) and stored so: two customers, CUST-Öberg and
CUST-Äberg, became one, `customer_ref=CUST-Öberg` found none of their calls, and an erasure request for it was
fulfilled deleting nothing. The field's bytes are now read as sent and refused as a file part's are, saying where;
UTF-8 in either kind of part is stored exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from tests.factories.recordings import STEREO, call_metadata, make_token

FINNISH = {"queue": "Sähkö", "agent_ref": "agent-ä", "customer_ref": "CUST-Öberg-1"}


def post_metadata_bytes(
    client: FlaskClient, token: str, metadata: bytes, *, as_file: bool, content_type: str = ""
) -> Any:
    """An ingest whose metadata part carries exactly `metadata`, as a form field or as a file part."""
    boundary = "cvEncodingTest"
    filename = '; filename="meta.json"' if as_file else ""
    declared = f"\r\nContent-Type: {content_type}" if content_type else ""
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"{filename}{declared}\r\n\r\n'.encode()
        + metadata
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n".encode()
        + STEREO.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/api/v1/recordings",
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.mark.parametrize("as_file", [False, True], ids=["field", "file"])
def test_metadata_in_a_legacy_code_page_is_refused_saying_where(
    client: FlaskClient, session: Session, as_file: bool
) -> None:
    token = make_token(session)
    metadata = json.dumps(call_metadata(**FINNISH), ensure_ascii=False)
    calls_before = session.scalar(select(func.count()).select_from(Recording))

    answer = post_metadata_bytes(client, token, metadata.encode("cp1252"), as_file=as_file)

    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    column = len(metadata[: metadata.index("ä")].encode("cp1252")) + 1
    assert (body["error"], body["field"]) == ("invalid_json", "metadata")
    assert f"not UTF-8 text (byte 0xE4 at line 1 column {column} is not UTF-8)" in body["message"]
    assert session.scalar(select(func.count()).select_from(Recording)) == calls_before


@pytest.mark.parametrize("as_file", [False, True], ids=["field", "file"])
def test_utf8_metadata_is_stored_exactly(client: FlaskClient, session: Session, as_file: bool) -> None:
    token = make_token(session)
    metadata = json.dumps(call_metadata(**FINNISH), ensure_ascii=False).encode()

    answer = post_metadata_bytes(client, token, metadata, as_file=as_file)

    assert answer.status_code == 201, answer.get_json()
    stored = session.get(Recording, answer.get_json()["id"])
    assert stored is not None
    assert (stored.queue, stored.agent_ref, stored.customer_ref) == ("Sähkö", "agent-ä", "CUST-Öberg-1")


@pytest.mark.parametrize(
    ("declared", "encoding", "status"),
    [("iso-8859-1", "iso-8859-1", 201), ("utf-8", "cp1252", 422), ("windows-1252", "cp1252", 422)],
)
def test_a_field_read_as_the_charset_it_declares_where_that_is_latin_1(
    client: FlaskClient, session: Session, declared: str, encoding: str, status: int
) -> None:
    """A review: a field declaring Latin-1, which Werkzeug honours, was refused once fields were read exactly; it is
    read as declared. A declared UTF-8 that is not, or a charset Werkzeug does not know, is refused as undeclared."""
    token = make_token(session)
    metadata = json.dumps(call_metadata(**FINNISH), ensure_ascii=False).encode(encoding)

    answer = post_metadata_bytes(
        client, token, metadata, as_file=False, content_type=f"application/json; charset={declared}"
    )

    assert answer.status_code == status, answer.get_json()
    if status == 201:
        stored = session.get(Recording, answer.get_json()["id"])
        assert stored is not None and (stored.queue, stored.customer_ref) == ("Sähkö", "CUST-Öberg-1")
