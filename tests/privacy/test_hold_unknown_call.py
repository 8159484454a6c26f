"""A hold on a call id that names no call comes back with the id's field marked, as a missing reason does.

Found by exploratory testing: "no call with this id was found" showed above the form, but the field holding the
mistyped id was not marked invalid nor tied to the message (aria-describedby), unlike every other refusal there.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form


def test_an_unknown_call_id_marks_the_id_field(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    refused = post_form(
        client,
        "/compliance/holds",
        {"target": "recording", "value": "01J0000000000000000000000A", "reason": "dispute 42"},
        token_from="/compliance/holds",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "no call with this id was found" in page
    value = re.search(r'<input id="value"[^>]*>', page)
    assert value is not None and 'value="01J0000000000000000000000A"' in value[0]
    assert 'aria-invalid="true"' in value[0] and 'aria-describedby="hold-error"' in value[0]
    assert 'value="dispute 42"' in page
