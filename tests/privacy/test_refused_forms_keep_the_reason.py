"""A refused extension of a request's deadline, and a refused release of a legal hold, come back as typed, the reason
beside the form and the field it names marked, as every other refused form of the app does (web/ui/refused_form.py).

Found acting as a compliance officer: a refused extension redirected to the request with a flashed message, and the
reason typed for the customer (it may be long) was gone; a refused release flashed its message at the top of the
holds page, naming no field among the release forms of every hold.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.privacy import SubjectRequest
from recordings_service.privacy import holds
from tests.factories.accounts import post_form
from tests.factories.privacy import OFFICER, access_request, customer

REASON = "The customer's calls span six years and three systems; gathering them takes longer."


def tag(page: str, element_id: str) -> str:
    """The opening tag of the element with `element_id`."""
    found = re.search(rf'<(?:input|select)[^>]*\bid="{element_id}"[^>]*>', page)
    assert found, f"no element {element_id}"
    return found.group(0)


def test_a_refused_extension_keeps_the_reason_and_marks_the_months(
    officer_client: FlaskClient, session: Session
) -> None:
    request = access_request(session)
    path = f"/subjects/{request.id}"

    refused = post_form(officer_client, f"{path}/extend", {"months": "3", "reason": REASON}, token_from=path)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="The customer&#39;s calls span six years' in tag(page, "reason")
    assert 'aria-invalid="true" aria-describedby="extend-error"' in tag(page, "months")
    assert "aria-invalid" not in tag(page, "reason")
    assert re.search(r'id="extend-error">extend by 1 or 2 months<', page)
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).extended_until is None


def test_a_refused_extension_without_a_reason_marks_the_reason(officer_client: FlaskClient, session: Session) -> None:
    request = access_request(session)
    path = f"/subjects/{request.id}"

    refused = post_form(officer_client, f"{path}/extend", {"months": "2", "reason": "  "}, token_from=path)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="extend-error"' in tag(page, "reason")
    assert '<option value="2" selected>' in page  # the months as chosen


def test_a_refused_release_marks_that_holds_reason(officer_client: FlaskClient, session: Session) -> None:
    disputed = holds.place_hold(session, actor=OFFICER, reason="claim 7", customer_ref=customer(session).customer_ref)
    other = holds.place_hold(session, actor=OFFICER, reason="claim 8", customer_ref=customer(session).customer_ref)
    session.commit()

    refused = post_form(
        officer_client, f"/compliance/holds/{disputed.hold.id}/release", {"reason": " "}, token_from="/compliance/holds"
    )

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="release-error"' in tag(page, f"release-{disputed.hold.id}")
    assert "aria-invalid" not in tag(page, f"release-{other.hold.id}")
    assert re.search(r'id="release-error">[^<]*state the reason', page)
    session.expire_all()
    assert holds.list_holds(session, active=True)[0].released_at is None
