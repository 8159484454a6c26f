"""A partner's script that sends the certificate as a plain form field instead of a file part (`curl -F
certificate=<cert.pdf`, or a `data=` dict) is told so, 422 naming `certificate`: found by exploratory testing, the
field was passed over and the confirmation recorded as one without a certificate (201), which compliance might then
reject for the missing certificate the partner believes it sent."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import CustodyConfirmation
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.research import downloaded_by_partner, downloaded_with_partner_token
from tests.factories.staff import client_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_certificate_sent_as_a_plain_field_is_refused_not_dropped(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch, plain = downloaded_with_partner_token(session, runtime)
    headers = {"Authorization": f"Bearer {plain}"}
    path = f"/api/v1/research/batches/{batch.id}/confirmation"
    form = {"method": "destroyed", "date": utcnow().date().isoformat(), "signer": "A. Researcher"}
    form |= {"title": "Head of lab", "statement": "Deleted from the lab's file server."}

    as_text = client.post(path, data={**form, "certificate": PDF.decode()}, headers=headers)

    assert as_text.status_code == 422, as_text.json
    assert (as_text.json["field"], as_text.json["error"]) == ("certificate", "not_a_file")
    assert session.scalar(select(func.count()).select_from(CustodyConfirmation)) == 0
    as_file = client.post(path, data={**form, "certificate": (io.BytesIO(PDF), "cert.pdf")}, headers=headers)
    assert as_file.status_code == 201, as_file.json
    assert as_file.json["certificate_size"] == len(PDF)


def test_the_partner_page_refuses_a_plain_certificate_field_too(app: Flask, session: Session, runtime: Runtime) -> None:
    """A browser sends a file part; a script driving the page did not, and its certificate was passed over (302,
    a confirmation without it)."""
    batch, user = downloaded_by_partner(session, runtime)
    client = client_of(app, user)
    path = f"/partner/batches/{batch.id}"
    form = {"method": "destroyed", "confirmed_on": utcnow().date().isoformat(), "signer": "A. Researcher"}
    form |= {"title": "Head of lab", "statement": "Deleted.", "csrf_token": csrf_token(client, path)}

    answer = client.post(f"{path}/confirmation", data={**form, "certificate": PDF.decode()})

    assert answer.status_code == 422 and answer.mimetype == "text/html"
    assert "send the certificate as a file part of the form" in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(CustodyConfirmation)) == 0
