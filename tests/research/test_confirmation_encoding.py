"""A partner's confirmation whose signer or statement is sent in a legacy code page (Latin-1's Ä as the one byte
0xC4) was stored with U+FFFD in place of each such letter: Werkzeug decodes a form field part as UTF-8 with errors
replaced, so the signed custody statement compliance keeps was silently not the one the partner sent. Found by
checking the confirmation form against the ingest's fix for its metadata field (ea2777d). Such a field is now
refused, 422 naming it and saying where its first byte that is not UTF-8 stands; a part that declares
charset=iso-8859-1 is read as Latin-1, and UTF-8 is stored exactly."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import CustodyConfirmation
from recordings_service.runtime import Runtime
from tests.factories.research import downloaded_with_partner_token

SIGNER = "Dr. Änne Öberg"
STATEMENT = "Alle Kopien wurden entfernt.\nDie Festplatte wurde vernichtet (Größe 2 TB)."


def fields(**given: bytes) -> dict[str, bytes]:
    return {
        "method": b"destroyed",
        "date": utcnow().date().isoformat().encode(),
        "signer": SIGNER.encode(),
        "title": b"Head of lab",
        "statement": STATEMENT.encode(),
    } | given


def post_parts(client: FlaskClient, path: str, token: str, parts: dict[str, bytes], *, declared: str = "") -> Any:
    """The confirmation as a multipart body whose field parts carry exactly these bytes (`declared`: a
    Content-Type on each part)."""
    boundary = "cvConfirmationEncoding"
    header = f"\r\nContent-Type: {declared}" if declared else ""
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{header}\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in parts.items()
    )
    return client.post(
        path,
        data=body + f"--{boundary}--\r\n".encode(),
        headers={"Authorization": f"Bearer {token}"},
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def confirmations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CustodyConfirmation)) or 0


@pytest.mark.parametrize(
    ("field", "text", "where"),
    [("signer", SIGNER, "byte 0xC4 at line 1 column 5"), ("statement", STATEMENT, "byte 0xF6 at line 2 column 36")],
)
def test_a_field_in_latin_1_is_refused_saying_where_not_stored_altered(
    client: FlaskClient, session: Session, runtime: Runtime, field: str, text: str, where: str
) -> None:
    batch, token = downloaded_with_partner_token(session, runtime)
    path = f"/api/v1/research/batches/{batch.id}/confirmation"

    answer = post_parts(client, path, token, fields(**{field: text.encode("latin-1")}))

    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert (body["error"], body["field"]) == ("not_utf8", field)
    assert f"{where} is not UTF-8" in body["message"]
    assert confirmations(session) == 0


def test_an_url_encoded_field_in_latin_1_is_refused_too(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """Werkzeug kept such a field's escape as text: "%C4nne" was stored for Änne."""
    batch, token = downloaded_with_partner_token(session, runtime)
    path = f"/api/v1/research/batches/{batch.id}/confirmation"
    form = fields(signer=SIGNER.encode("latin-1"))

    answer = client.post(
        path,
        data="&".join(f"{name}={quote_from_bytes(value)}" for name, value in form.items()),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/x-www-form-urlencoded",
    )

    assert answer.status_code == 422, answer.get_json()
    assert (answer.get_json()["error"], answer.get_json()["field"]) == ("not_utf8", "signer")
    assert confirmations(session) == 0


def test_declared_latin_1_and_utf_8_are_stored_exactly(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    batch, token = downloaded_with_partner_token(session, runtime)
    path = f"/api/v1/research/batches/{batch.id}/confirmation"
    latin_1 = {name: value.decode().encode("latin-1") for name, value in fields().items()}

    answer = post_parts(client, path, token, latin_1, declared="text/plain; charset=iso-8859-1")

    assert answer.status_code == 201, answer.get_json()
    stored = session.scalars(select(CustodyConfirmation)).one()
    assert (stored.signer, stored.statement) == (SIGNER, STATEMENT)
    again, token = downloaded_with_partner_token(session, runtime)

    as_utf_8 = post_parts(client, f"/api/v1/research/batches/{again.id}/confirmation", token, fields())

    assert as_utf_8.status_code == 201, as_utf_8.get_json()
    assert (as_utf_8.get_json()["signer"], as_utf_8.get_json()["statement"]) == (SIGNER, STATEMENT)


@pytest.mark.parametrize(
    "certificate",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",  # a PDF's binary marker line
        b"%PDF-1.7\n1 0 obj << /Length 3 >> stream\n\x00\x01\x02\nendstream endobj\n%%EOF\n",  # NUL in a stream
    ],
)
def test_a_certificate_sent_as_a_plain_field_is_not_a_file_whatever_its_bytes(
    client: FlaskClient, session: Session, runtime: Runtime, certificate: bytes
) -> None:
    """`curl -F certificate=<cert.pdf` sends a PDF as a plain field: it was told its bytes are not UTF-8 (or hold
    NUL), where what is wrong is that it is not a file part."""
    batch, token = downloaded_with_partner_token(session, runtime)
    path = f"/api/v1/research/batches/{batch.id}/confirmation"

    answer = post_parts(client, path, token, fields(certificate=certificate))

    assert answer.status_code == 422, answer.get_json()
    assert (answer.get_json()["error"], answer.get_json()["field"]) == ("not_a_file", "certificate")
    assert confirmations(session) == 0
