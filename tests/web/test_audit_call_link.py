"""A call's page links to the call's audit trail for whoever may read the trail, and for nobody else.

Found acting as a compliance officer on a disputed call: the page had no way to its trail (who heard it, who
searched its words); the id had to be copied into the audit page's Object id field by hand.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.permissions import ROLE_PERMISSIONS, Permission
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, make_agent_user, published_form, released
from tests.factories.recordings import FOR_TRAINING_TOO, make_recording

AGENT_REF = "agent-trail-link"
# Every role that may open a call's page (an agent: the call of an evaluation released to them).
READERS = [role for role, granted in ROLE_PERMISSIONS.items() if Permission.RECORDING_PLAY_REDACTED in granted]


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    call = make_recording(session, store, envelope, agent_ref=AGENT_REF, queue="billing", purposes=FOR_TRAINING_TOO)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    released(session, supervisor, published_form(session, actor_of(supervisor)), call, ["yes", "4", "yes"])
    session.commit()
    return call


@pytest.mark.parametrize("role", READERS)
def test_the_call_page_links_to_its_trail_only_for_those_who_may_read_it(
    client: FlaskClient, session: Session, call: Recording, role: Role
) -> None:
    login(client, make_agent_user(session, AGENT_REF) if role == Role.AGENT else make_user(session, role=role))

    page = client.get(f"/calls/{call.id}")

    assert page.status_code == 200
    link = f'<a href="/audit/?object_id={call.id}">Audit trail of this call</a>'
    may_read = Permission.AUDIT_READ in ROLE_PERMISSIONS[role]
    assert (link in page.get_data(as_text=True)) == may_read
    assert ("/audit/" in page.get_data(as_text=True)) == may_read
    if may_read:
        trail = client.get(f"/audit/?object_id={call.id}")
        assert trail.status_code == 200
        rows = trail.get_data(as_text=True).split("<tbody>")[1]
        assert f'<a href="/calls/{call.id}">{call.id}</a>' in rows  # the call's events, the reader's visit among them
        assert "No events match." not in rows


def test_some_role_may_and_some_may_not_read_the_trail() -> None:
    """The parametrised test above covers both sides of the link."""
    assert {Permission.AUDIT_READ in ROLE_PERMISSIONS[role] for role in READERS} == {True, False}
