"""A confirmation whose certificate is over the size limit comes back as the partner typed it, the limit said beside
the certificate; where its fields cannot be read safely, the page says the limit and leads back to the batch.

Found by exploratory testing as a partner: a scanned certificate of 12 MB answered a bare "Error 413: what you sent
is too large" page, and the statement typed was gone; one just over 10 MB said "at most 10 MB" at the top of the
page, away from the field it was about.
"""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch, User
from recordings_service.research.confirmations import MAX_CERTIFICATE_BYTES
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.audit import events, newest_seq
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of

LIMIT = "The certificate may be at most 10 MB."
STATEMENT = "Every copy was deleted.\nThe laptops were wiped on 3 May."
# Over the limit of the whole body (the certificate's and the form's room): refused before anything reads it.
OVERSIZE = MAX_CERTIFICATE_BYTES + 70_000


@pytest.fixture
def made(session: Session, runtime: Runtime, officer: User) -> ResearchBatch:
    batch = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, batch)
    session.commit()
    return batch


def send(client: FlaskClient, batch_id: str, *, size: int, token: str) -> tuple[int, str]:
    # In the form's order, as a browser sends it: the typed fields, then the file.
    data: dict[str, object] = {"csrf_token": token, "method": "returned", "confirmed_on": utcnow().date().isoformat()}
    data |= {"signer": "Dr. Ä. Researcher", "title": "Head of lab", "statement": STATEMENT}
    data["certificate"] = (io.BytesIO(b"%PDF-1.4 " + b"x" * size), "scan.pdf")
    answer = client.post(f"/partner/batches/{batch_id}/confirmation", data=data, content_type="multipart/form-data")
    return answer.status_code, answer.get_data(as_text=True)


def assert_kept_with_the_limit_beside_the_certificate(page: str, message: str) -> None:
    assert 'id="signer" name="signer" value="Dr. Ä. Researcher"' in page
    assert 'id="title" name="title" value="Head of lab"' in page
    assert f">{STATEMENT}</textarea>" in page
    assert 'value="returned" required checked' in page
    certificate = re.search(r'<input id="certificate"[^>]*>\s*<p id="certificate-error"[^>]*>([^<]*)</p>', page)
    assert certificate is not None, "no message beside the certificate"
    assert 'aria-invalid="true"' in certificate[0] and 'aria-describedby="certificate-error"' in certificate[0]
    assert certificate[1] == message


def test_a_certificate_over_the_body_limit_keeps_the_typed_form(
    app: Flask, session: Session, made: ResearchBatch
) -> None:
    client = client_of(app, partner(session, made.institute_id))
    session.commit()
    path = f"/partner/batches/{made.id}"

    status, page = send(client, made.id, size=OVERSIZE, token=csrf_token(client, path))

    assert status == 413
    assert_kept_with_the_limit_beside_the_certificate(page, LIMIT)
    assert page.count(LIMIT) == 1  # beside the field, not again at the top
    assert "Send the confirmation" in page
    assert made.study in page


def test_a_certificate_just_over_its_limit_is_refused_beside_the_field(
    app: Flask, session: Session, made: ResearchBatch
) -> None:
    client = client_of(app, partner(session, made.institute_id))
    session.commit()
    path = f"/partner/batches/{made.id}"

    status, page = send(client, made.id, size=MAX_CERTIFICATE_BYTES, token=csrf_token(client, path))

    assert status == 422
    assert_kept_with_the_limit_beside_the_certificate(page, "at most 10 MB")


def test_where_the_fields_cannot_be_read_safely_the_page_says_the_limit_and_leads_back(
    app: Flask, session: Session, made: ResearchBatch
) -> None:
    path = f"/partner/batches/{made.id}"
    own = client_of(app, partner(session, made.institute_id))
    stranger = client_of(app, partner(session, institute(session).id))  # another institute's partner
    session.commit()
    signed_out = app.test_client()

    for client, token in ((own, "forged"), (stranger, csrf_token(stranger, "/partner/")), (signed_out, "none")):
        status, page = send(client, made.id, size=OVERSIZE, token=token)
        assert status == 413
        assert LIMIT in page and f'<a href="{path}" class="back">' in page
        assert STATEMENT not in page and "Dr. Ä. Researcher" not in page  # nothing typed shown back
        assert made.study not in page  # nor anything of a batch the sender may not see


def test_a_body_of_unannounced_length_cut_off_at_the_limit_says_the_limit_and_leads_back(
    app: Flask, session: Session, made: ResearchBatch
) -> None:
    """Sent chunked, the body is cut off while the form is read (its fields with it): the page of the limit."""
    client = client_of(app, partner(session, made.institute_id))
    session.commit()
    path = f"/partner/batches/{made.id}"
    data: dict[str, object] = {"csrf_token": csrf_token(client, path), "statement": STATEMENT}
    data["certificate"] = (io.BytesIO(b"%PDF-1.4 " + b"x" * OVERSIZE), "scan.pdf")
    answer = client.post(
        f"{path}/confirmation",
        data=data,
        content_type="multipart/form-data",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 413
    assert LIMIT in page and f'<a href="{path}" class="back">' in page


def test_another_partner_page_over_the_limit_is_refused_naming_no_certificate(
    app: Flask, session: Session, runtime: Runtime, made: ResearchBatch
) -> None:
    """The portal's own refusal of a large body names the certificate only where the form sends one."""
    client = client_of(app, partner(session, made.institute_id))
    session.commit()
    path = f"/partner/batches/{made.id}/follow-up/1/acknowledge"
    body = {"csrf_token": "x", "padding": "x" * runtime.settings.max_request_bytes}
    answer = client.post(path, data=body, headers={"Accept": "application/json"})
    assert answer.status_code == 413
    assert answer.get_json()["field"] == "body" and "certificate" not in answer.get_data(as_text=True)
    page = client.post(path, data=body)
    assert page.status_code == 413 and "certificate" not in page.get_data(as_text=True)


def test_another_institutes_oversized_confirmation_is_audited_as_refused(
    app: Flask, session: Session, made: ResearchBatch
) -> None:
    """Found by a security review: another institute's partner posting an oversized confirmation to a batch not
    theirs was answered 413, but its refusal (`research.partner_refused`, written for a smaller body) was dropped."""
    stranger = client_of(app, partner(session, institute(session).id))
    session.commit()
    token = csrf_token(stranger, "/partner/")
    after = newest_seq(session)

    status, _ = send(stranger, made.id, size=OVERSIZE, token=token)

    assert status == 413
    refused = events(session, "research.partner_refused", made.id, after=after)
    assert [(event.object_type, event.details["rule"]) for event in refused] == [("research_batch", "institute")]
