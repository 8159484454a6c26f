"""Every form of a data-subject request's page comes back to the page of the customer's calls it was sent from.

Found after the calls came a page at a time: only the rectification form carried its page, so extending the
deadline, lifting a restriction or any other answer left the compliance officer on the first page of calls. The
page a form sends is checked as the page's own link is: one edited is refused before the form does anything.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording, SubjectRequest
from recordings_service.recordings import encode_cursor
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import request_with_two_calls

EDITED = "bm90LWEtY3Vyc29y"  # base64 of "not-a-cursor"


def forms(page: str) -> list[str]:
    """The forms of the request's page (not the layout's around it: the language and sign-out forms)."""
    main = re.search(r'<main id="main".*?</main>', page, re.S)
    assert main is not None
    found = re.findall(r"<form .*?</form>", main.group(0), re.S)
    assert found, "no form on the page"
    return found


def came_back_to(response_location: str) -> str | None:
    """The page of calls a redirect leads to (None for the first)."""
    return parse_qs(urlsplit(response_location).query).get("cursor", [None])[0]


@pytest.mark.parametrize(
    ("kind", "restricted"),
    [
        ("access", False),
        ("objection", False),
        ("rectification", False),
        ("restriction", False),
        ("restriction", True),
        ("erasure", False),
    ],
)
def test_every_form_of_the_page_carries_the_page_of_calls(
    officer_client: FlaskClient,
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    kind: str,
    restricted: bool,
) -> None:
    request, newer, _ = request_with_two_calls(session, store, envelope, kind, restricted=restricted)
    cursor = encode_cursor(newer)

    page = officer_client.get(f"/subjects/{request.id}?cursor={cursor}").get_data(as_text=True)

    hidden = f'<input type="hidden" name="cursor" value="{cursor}">'
    assert [hidden in form for form in forms(page)] == [True] * len(forms(page))
    assert restricted == ("/lift" in page)


def test_an_extension_comes_back_to_the_page_it_was_sent_from(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, newer, older = request_with_two_calls(session, store, envelope, "access")
    cursor = encode_cursor(newer)
    path = f"/subjects/{request.id}"
    form = {"months": "1", "reason": "many recordings", "cursor": cursor}

    refused = post_form(officer_client, f"{path}/extend", {**form, "months": "3"}, token_from=path)
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert older.id in shown and newer.id not in shown  # the same page of calls, the reason as typed
    assert 'value="many recordings"' in shown and f'name="cursor" value="{cursor}"' in shown

    extended = post_form(officer_client, f"{path}/extend", form, token_from=path)
    assert extended.status_code == 302 and came_back_to(extended.headers["Location"]) == cursor
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).extended_until is not None


def test_lifting_a_restriction_comes_back_to_the_page_it_was_sent_from(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, newer, _ = request_with_two_calls(session, store, envelope, "restriction", restricted=True)
    cursor = encode_cursor(newer)
    path = f"/subjects/{request.id}"

    lifted = post_form(officer_client, f"{path}/lift", {"cursor": cursor}, token_from=path)
    assert lifted.status_code == 302 and came_back_to(lifted.headers["Location"]) == cursor
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).lifted_at is not None

    again = post_form(officer_client, f"{path}/lift", {"cursor": cursor}, token_from=path)  # refused: lifted
    assert again.status_code == 302 and came_back_to(again.headers["Location"]) == cursor


@pytest.mark.parametrize("action", ["extend", "lift", "fulfil"])
def test_an_edited_page_is_refused_before_the_form_does_anything(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, action: str
) -> None:
    request, newer, _ = request_with_two_calls(session, store, envelope, "restriction", restricted=action == "lift")
    path = f"/subjects/{request.id}"
    form = {"months": "1", "reason": "many recordings"} if action == "extend" else {}

    refused = post_form(officer_client, f"{path}/{action}", {**form, "cursor": EDITED}, token_from=path)

    assert refused.status_code == 422
    assert "not valid (mistyped or out of date)" in refused.get_data(as_text=True)
    session.expire_all()
    stored = session.get_one(SubjectRequest, request.id)
    assert (stored.extended_until, stored.lifted_at) == (None, None)
    assert session.get_one(Recording, newer.id).restricted == (action == "lift")
