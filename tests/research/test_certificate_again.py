"""A partner's confirmation refused for another field says to choose the certificate again.

Found by exploratory testing: the form came back with every typed field but the certificate (no browser keeps a
chosen file), and nothing said so: sent again as it stood, the confirmation went to compliance without it."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import User
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of

AGAIN = "Choose the certificate again: a file you chose is not kept when the form comes back."


def test_the_certificate_is_asked_for_again_when_another_field_is_refused(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab))
    downloaded(session, made)
    session.commit()
    client = client_of(app, partner(session, lab))
    path = f"/partner/batches/{made.id}"
    in_a_week = (utcnow().date() + timedelta(days=7)).isoformat()
    fields = {"method": "destroyed", "confirmed_on": in_a_week, "signer": "Dr. A. Researcher", "title": "Head of lab"}
    fields |= {"statement": "Every copy was deleted."}

    def send(certificate: tuple[io.BytesIO, str] | None) -> tuple[int, str]:
        data: dict[str, object] = {**fields, "csrf_token": csrf_token(client, path)}
        if certificate is not None:
            data["certificate"] = certificate
        answer = client.post(f"{path}/confirmation", data=data, content_type="multipart/form-data")
        return answer.status_code, answer.get_data(as_text=True)

    status, page = send((io.BytesIO(b"%PDF-1.4 signed"), "certificate.pdf"))
    assert status == 422 and "cannot be in the future" in page and AGAIN in page
    assert 'aria-describedby="certificate-again"' in page

    status, page = send(None)  # nothing chosen: nothing to choose again
    assert status == 422 and AGAIN not in page

    fields["confirmed_on"] = utcnow().date().isoformat()
    status, page = send((io.BytesIO(b"not a pdf"), "certificate.pdf"))  # the certificate's own refusal says why
    assert status == 422 and "PDF" in page and AGAIN not in page
