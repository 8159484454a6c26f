"""A HEAD of the call page (a link checker, a browser's prefetch) sends no page: it issued a playback ticket and
recorded the transcript as viewed all the same. It now records neither, as the audit page's HEAD records no
reading; a GET is audited as ever."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.audit import events
from tests.factories.recordings import FOR_TRAINING_TOO, derived_known_and_stored
from tests.factories.reviews import make_transcribed_call

ROLES = [Role.QA_SUPERVISOR, Role.TRAINER]


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope, redacted=True, purposes=FOR_TRAINING_TOO)


def signed_in(client: FlaskClient, session: Session, role: Role) -> None:
    login(client, make_user(session, role=role))
    session.commit()


@pytest.mark.parametrize("role", ROLES)
def test_a_head_of_the_call_page_records_nothing_and_issues_no_ticket(
    client: FlaskClient, session: Session, call: Recording, role: Role
) -> None:
    signed_in(client, session, role)

    response = client.head(f"/calls/{call.id}")

    assert response.status_code == 200 and response.data == b""
    recorded = [event.action for event in events(session, "transcript.viewed", call.id)]
    issued = [event.action for event in events(session, "recording.play_ticket_issued", call.id)]
    assert (recorded, issued) == ([], [])


@pytest.mark.parametrize("role", ROLES)
def test_a_get_of_the_call_page_is_audited_as_before(
    client: FlaskClient, session: Session, call: Recording, role: Role
) -> None:
    signed_in(client, session, role)

    response = client.get(f"/calls/{call.id}")

    assert response.status_code == 200
    assert len(events(session, "transcript.viewed", call.id)) == 1
    # The trainer plays the redacted audio, which needs no ticket; the supervisor plays the original with one.
    assert len(events(session, "recording.play_ticket_issued", call.id)) == (role == Role.QA_SUPERVISOR)
    if role == Role.QA_SUPERVISOR:
        assert f'src="/api/v1/recordings/{call.id}/audio?ticket=' in response.get_data(as_text=True)


def test_a_head_of_the_peaks_computes_them_and_stores_nothing(
    client: FlaskClient, session: Session, store: S3ObjectStore, call: Recording
) -> None:
    """A HEAD stored the peaks it computed while its session, which commits nothing, dropped the row naming their
    version: the retention sweep, which deletes a call's derivatives by those rows, left them to the proof after it."""
    signed_in(client, session, Role.QA_SUPERVISOR)
    before = derived_known_and_stored(session, store, call.id)

    head = client.head(f"/calls/{call.id}/peaks.json")

    assert head.status_code == 200 and head.data == b""
    assert derived_known_and_stored(session, store, call.id) == before
    got = client.get(f"/calls/{call.id}/peaks.json")
    assert got.status_code == 200 and head.headers["Content-Length"] == got.headers["Content-Length"]
    known, stored = derived_known_and_stored(session, store, call.id)
    assert known == stored and len(stored) == len(before[1]) + 1
