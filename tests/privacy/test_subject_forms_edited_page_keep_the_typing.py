"""A form of a data-subject request's page sent with an edited page of calls comes back as typed.

Found by use: the page of calls each form carries (its hidden `cursor`) was checked before the form was read, and one
edited or out of date was refused on the generic error page, losing what the compliance officer had typed (an
extension's reason told to the customer, a correction's text). The request's page comes back instead, on the first
page of calls, with everything as typed and why (422); nothing is saved.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Recording, SubjectCorrection, SubjectRequest
from recordings_service.recordings import encode_cursor
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import customer, request_with_two_calls
from tests.factories.recordings import make_recording

EDITED = "bm90LWEtY3Vyc29y"  # base64 of "not-a-cursor"
WHY = "The page of calls this form was sent from is not valid (mistyped or out of date)"


def form_of(page: str, action: str) -> str:
    found = re.search(rf'<form method="post" action="[^"]*/{action}".*?</form>', page, re.S)
    assert found is not None, f"no {action} form on the page"
    return found.group(0)


def test_an_extension_sent_from_an_edited_page_keeps_its_reason(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, newer, older = request_with_two_calls(session, store, envelope, "access")
    path = f"/subjects/{request.id}"
    form = {"months": "2", "reason": "Many recordings to collect", "cursor": EDITED}

    refused = post_form(officer_client, f"{path}/extend", form, token_from=path)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert WHY in page and 'id="extend-error"' in page
    extension = form_of(page, "extend")
    assert 'value="Many recordings to collect"' in extension and '<option value="2" selected>' in extension
    assert 'name="cursor"' not in extension  # sent again, it comes back to the first page
    assert newer.id in page and older.id in page  # the first page of calls
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).extended_until is None

    again = post_form(officer_client, f"{path}/extend", {**form, "cursor": ""}, token_from=path)
    assert again.status_code == 302
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).extension_reason == "Many recordings to collect"


def test_a_correction_sent_from_an_edited_page_keeps_what_was_typed(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, _, older = request_with_two_calls(session, store, envelope, "rectification")
    path = f"/subjects/{request.id}"
    form = {"recording_id": older.id, "queue": "billing", "segment": "0", "text": "My name is spelt Virtanen"}

    refused = post_form(officer_client, f"{path}/fulfil", {**form, "cursor": EDITED}, token_from=path)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert WHY in page and 'id="answer-error"' in page
    answer = form_of(page, "fulfil")
    assert f'<option value="{older.id}" selected>' in answer
    assert 'value="billing"' in answer and ">My name is spelt Virtanen</textarea>" in answer
    assert session.scalars(select(SubjectCorrection)).first() is None


def test_lifting_from_an_edited_page_comes_back_to_the_request(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, newer, _ = request_with_two_calls(session, store, envelope, "restriction", restricted=True)
    path = f"/subjects/{request.id}"

    refused = post_form(officer_client, f"{path}/lift", {"cursor": EDITED}, token_from=path)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert WHY in page and "Lift the restriction" in page and newer.id in page
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).lifted_at is None
    assert session.get_one(Recording, newer.id).restricted


def test_a_refused_correction_of_a_call_not_shown_leaves_no_call_chosen(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    """Found beside it: the call list of the form showed the first call chosen when the call sent was not on the
    page shown, so sending the form again corrected another call than the one meant."""
    request, newer, _ = request_with_two_calls(session, store, envelope, "rectification")
    stranger = make_recording(session, store, envelope, customer_id=customer(session).id)
    session.commit()
    path = f"/subjects/{request.id}"
    form = {"recording_id": stranger.id, "queue": "billing", "cursor": encode_cursor(newer)}

    refused = post_form(officer_client, f"{path}/fulfil", form, token_from=path)

    answer = form_of(refused.get_data(as_text=True), "fulfil")
    assert refused.status_code in (404, 422)
    assert '<option value="" selected>Choose the call again' in answer
    assert " selected>" not in answer.replace('<option value="" selected>', "")
