"""An objection's form answers "objects to neither" only when that is ticked.

Found acting as a compliance officer: the form sent with no box ticked recorded "objects to nothing" and marked
the request answered, so an officer who forgot to tick closed the customer's objection without a word. "Neither"
is now a tick of its own; no tick, or "neither" with another, is refused (422) with the form as sent, the reason
beside the ticks and nothing saved. The API (explicit true and false) is unchanged.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Customer, SubjectRequest
from recordings_service.recordings import encode_cursor
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import post_form
from tests.factories.privacy import request_with_two_calls

NONE_TICKED = "tick what the customer objects to, or that they object to neither"
BOTH_TICKED = "tick what the customer objects to or that they object to neither, not both"


def tick(page: str, name: str) -> str:
    """The objection form's checkbox `name` as rendered."""
    found = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', page)
    assert found is not None, f"no {name} tick"
    return found[0]


def nothing_saved(session: Session, request: SubjectRequest) -> None:
    session.expire_all()
    stored = session.get_one(SubjectRequest, request.id)
    assert stored.completed_at is None and not stored.outcome
    flags = session.get_one(Customer, stored.customer_id)
    assert (flags.objects_to_research, flags.objects_to_marketing) == (False, True)  # as stored before
    recorded = select(AuditEvent).where(AuditEvent.action == "customer.objection_recorded")
    assert session.scalars(recorded).all() == []


def test_an_objection_sent_with_no_tick_is_refused_and_neither_must_be_ticked(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, newer, _ = request_with_two_calls(session, store, envelope, "objection")
    request.customer.objects_to_marketing = True  # an earlier objection: the form shows it ticked
    session.commit()
    cursor = encode_cursor(newer)
    path = f"/subjects/{request.id}"
    page = officer_client.get(f"{path}?cursor={cursor}").get_data(as_text=True)
    assert "The customer objects to neither (the request is answered as such)" in page
    assert "checked" not in tick(page, "neither") and "checked" in tick(page, "marketing")

    # The officer unticks marketing and forgets to tick anything else.
    refused = post_form(officer_client, f"{path}/fulfil", {"cursor": cursor}, token_from=path)

    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422
    reason = f'<p class="flash error" role="alert" id="answer-error">{NONE_TICKED}</p>'
    assert reason in shown and shown.index(reason) < shown.index('/fulfil"') < shown.index('name="neither"')
    for name in ("research", "marketing", "neither"):
        assert 'aria-invalid="true" aria-describedby="answer-error"' in tick(shown, name)
        assert "checked" not in tick(shown, name)  # as sent
    assert f'<input type="hidden" name="cursor" value="{cursor}">' in shown
    assert "Objection recorded" not in shown
    nothing_saved(session, request)

    both = {"neither": "1", "research": "1", "cursor": cursor}
    refused = post_form(officer_client, f"{path}/fulfil", both, token_from=path)

    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'id="answer-error">{BOTH_TICKED}</p>' in shown
    assert 'checked aria-invalid="true"' in tick(shown, "neither") and "checked" in tick(shown, "research")
    assert "aria-invalid" not in tick(shown, "research") and "checked" not in tick(shown, "marketing")
    nothing_saved(session, request)

    answered = post_form(officer_client, f"{path}/fulfil", {"neither": "1", "cursor": cursor}, token_from=path)

    assert answered.status_code == 302 and f"cursor={cursor}" in answered.headers["Location"]
    session.expire_all()
    stored = session.get_one(SubjectRequest, request.id)
    assert stored.completed_at is not None
    flags = session.get_one(Customer, stored.customer_id)
    assert (flags.objects_to_research, flags.objects_to_marketing) == (False, False)
    page = officer_client.get(answered.headers["Location"]).get_data(as_text=True)
    assert "Objection recorded" in page and "Objects to research: no; to marketing: no." in page


def test_a_tick_for_research_or_marketing_alone_answers_as_before(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    request, _, _ = request_with_two_calls(session, store, envelope, "objection")
    path = f"/subjects/{request.id}"

    answered = post_form(officer_client, f"{path}/fulfil", {"marketing": "1"}, token_from=path)

    assert answered.status_code == 302
    session.expire_all()
    flags = session.get_one(Customer, session.get_one(SubjectRequest, request.id).customer_id)
    assert (flags.objects_to_research, flags.objects_to_marketing) == (False, True)
