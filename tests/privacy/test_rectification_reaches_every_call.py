"""The rectification form reaches every call of the customer, however many they have.

Found acting as a compliance officer: the form's Call select offered the customer's 200 newest calls and nothing
more, so an older call of a customer with more calls could not be corrected through the page at all. The calls
now come a page at a time, newest first, as on the calls list; the form offers the page shown and keeps it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import new_id
from recordings_service.models import Recording, SubjectRequest
from recordings_service.privacy import subjects
from recordings_service.recordings import MAX_PAGE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_recording

NOW = datetime.now(UTC).replace(microsecond=0)


def customer_with_a_page_of_newer_calls(
    session: Session, store: S3ObjectStore, envelope: Envelope
) -> tuple[Recording, Recording, SubjectRequest]:
    """A customer's oldest call behind a full page of newer ones (rows like it: the form corrects metadata only), a
    call of someone else, and the customer's open rectification request."""
    person = customer(session)
    oldest = make_recording(session, store, envelope, customer_id=person.id, started_at=NOW - timedelta(days=400))
    stored = {column.key: getattr(oldest, column.key) for column in Recording.__mapper__.column_attrs}
    for number in range(MAX_PAGE):
        session.add(
            Recording(
                **{
                    **stored,
                    "id": new_id(),
                    "external_call_id": f"{oldest.external_call_id}-{number}",
                    "storage_key": f"{oldest.storage_key}-{number}",
                    "started_at": NOW - timedelta(minutes=number),
                }
            )
        )
    someone_else = make_recording(session, store, envelope, customer_id=customer(session).id, started_at=NOW)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )
    session.commit()
    return oldest, someone_else, request


def older_calls_link(page: str) -> str:
    found = re.search(r'<a href="([^"]+)" rel="next">Older calls</a>', page)
    assert found is not None, "no link to the older calls"
    return unescape(found.group(1))


def offered(page: str) -> list[str]:
    select = re.search(r'<select id="recording_id".*?</select>', page, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]+)"', select.group(0))


def test_an_older_call_than_a_page_is_reached_and_corrected(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    oldest, _, request = customer_with_a_page_of_newer_calls(session, store, envelope)
    path = f"/subjects/{request.id}"

    first = officer_client.get(path).get_data(as_text=True)
    assert len(offered(first)) == MAX_PAGE and oldest.id not in offered(first)

    older_path = older_calls_link(first)
    older = officer_client.get(older_path).get_data(as_text=True)
    assert offered(older) == [oldest.id]
    cursor = re.search(r'<input type="hidden" name="cursor" value="([^"]+)">', older)
    assert cursor is not None

    # Refused, the page comes back on the same page of calls, the call still chosen.
    form = {"recording_id": oldest.id, "queue": "moving", "cursor": unescape(cursor.group(1))}
    refused = post_form(officer_client, f"{path}/fulfil", {**form, "agreement_made": "maybe"}, token_from=older_path)
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'<option value="{oldest.id}" selected>' in shown

    saved = post_form(officer_client, f"{path}/fulfil", form, token_from=older_path)
    assert saved.status_code == 302 and "cursor=" in saved.headers["Location"]
    session.expire_all()
    assert session.get_one(Recording, oldest.id).queue == "moving"
    assert oldest.id in offered(officer_client.get(saved.headers["Location"]).get_data(as_text=True))


def test_a_call_of_another_customer_is_a_422_naming_the_call(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    _, someone_else, request = customer_with_a_page_of_newer_calls(session, store, envelope)
    path = f"/subjects/{request.id}"

    refused = post_form(
        officer_client, f"{path}/fulfil", {"recording_id": someone_else.id, "queue": "moving"}, token_from=path
    )

    assert refused.status_code == 422
    assert re.search(r'<select id="recording_id"[^>]*aria-invalid="true"', refused.get_data(as_text=True))
    session.expire_all()
    assert session.get_one(Recording, someone_else.id).queue == "sales"
