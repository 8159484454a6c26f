"""The call page: metadata, player, waveform peaks, transcript with word timings, verification, audits."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.review import verify_transcript
from recordings_service.calls.waveform import BUCKETS_PER_SECOND, peaks_key
from recordings_service.errors import Forbidden
from recordings_service.models import Recording, SegmentVerification, Transcript, User
from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcript_text import seal_segments, segments_of, twin_of
from tests.factories.accounts import login, make_user, post_form
from tests.factories.audit import events
from tests.factories.privacy import OFFICER
from tests.factories.recordings import FOR_TRAINING_TOO, derived_known_and_stored
from tests.factories.reviews import EN_DURATION_S, LOW_WORD, SUSPECT_SEGMENT, make_transcribed_call, word_start
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope, purposes=FOR_TRAINING_TOO)


@pytest.fixture
def qa(session: Session, client: FlaskClient) -> User:
    user = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, user)
    return user


def page(client: FlaskClient, recording: Recording, query: str = "") -> str:
    response = client.get(f"/calls/{recording.id}{query}")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_the_page_shows_metadata_player_and_a_timed_transcript(
    client: FlaskClient, session: Session, call: Recording, qa: User
) -> None:
    html = page(client, call)
    assert call.queue in html and call.agent_ref in html and call.sha256 in html
    assert f'src="/api/v1/recordings/{call.id}/audio?ticket=' in html  # see tests/web/test_playback.py
    assert 'preload="none"' in html  # nothing is fetched, or audited as a listen, until someone plays
    assert f'data-peaks-url="/calls/{call.id}/peaks.json"' in html
    start = word_start("kilowatt")
    assert re.search(rf'<span class="w" tabindex="-1" data-start="{start}" data-end="[\d.]+">kilowatt</span>', html)
    low = rf'<span class="w low" tabindex="-1" data-start="[\d.]+" data-end="[\d.]+">{LOW_WORD}</span>'
    assert re.search(low, html)
    assert html.count('tabindex="0" data-start=') == 1  # the words are one Tab stop (roving tabindex)
    assert html.count('<p class="words" lang="en">') == 6  # the transcript's language, for screen readers
    assert 'data-lane="left"' in html and 'data-lane="right"' in html  # agent and customer lanes
    assert f'id="seg-{SUSPECT_SEGMENT}" class="segment customer suspect"' in html
    assert "text over silence" in html and 'class="legend"' in html
    assert 'class="segment agent"' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style
    viewed = events(session, "transcript.viewed", call.id)
    assert len(viewed) == 1 and viewed[0].actor_id == qa.id


def test_t_opens_the_call_at_a_moment_within_its_length(client: FlaskClient, call: Recording, qa: User) -> None:
    assert 'data-start-at="12.5"' in page(client, call, "?t=12.5")
    assert f'data-start-at="{EN_DURATION_S}"' in page(client, call, "?t=9999")
    assert 'data-start-at="0.0"' in page(client, call, "?t=nan")
    assert 'data-start-at="0.0"' in page(client, call, "?t=soon")


def test_a_call_without_transcript_says_so_and_audits_no_view(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, qa: User
) -> None:
    bare = make_transcribed_call(session, store, envelope, transcript=False)
    assert "No transcript to show yet." in page(client, bare)
    assert events(session, "transcript.viewed", bare.id) == []


def test_restricted_calls_are_compliance_only_and_refusals_audited(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    restricted = make_transcribed_call(session, store, envelope, restricted=True)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)
    for path in ("", "/peaks.json"):
        assert client.get(f"/calls/{restricted.id}{path}").status_code == 404
    denials = events(session, "recording.access_denied", restricted.id)
    assert [event.actor_id for event in denials] == [supervisor.id, supervisor.id]
    assert events(session, "transcript.viewed", restricted.id) == []

    login(client, make_user(session, role=Role.COMPLIANCE))
    assert "kilowatt" in page(client, restricted)


def test_unknown_call_is_404_and_roles_without_playback_are_refused(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert client.get("/calls/01JZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404
    login(client, make_user(session, role=Role.ADMIN))
    assert client.get(f"/calls/{call.id}").status_code == 403
    # Trainers hear only redacted audio: the page is theirs, the original is not (tests/web/test_redacted_access.py)
    login(client, make_user(session, role=Role.TRAINER))
    assert client.get(f"/calls/{call.id}").status_code == 200
    assert client.get(f"/api/v1/recordings/{call.id}/audio").status_code == 403


def test_the_audio_endpoint_serves_the_browser_session_and_audits_one_listen(
    client: FlaskClient, session: Session, call: Recording, qa: User
) -> None:
    url = unescape(re.findall(r'id="call-audio"[^>]* src="([^"]+)"', page(client, call))[0])
    first = client.get(url, headers={"Range": "bytes=0-"})
    assert first.status_code == 206 and first.headers["Cache-Control"] == "no-store"
    seek = client.get(url, headers={"Range": "bytes=100000-"})
    assert seek.status_code == 206
    played = events(session, "recording.played", call.id)
    assert len(played) == 1 and played[0].actor_id == qa.id


def test_peaks_are_computed_once_and_cached_as_plain_json(
    client: FlaskClient, session: Session, store: S3ObjectStore, call: Recording, qa: User
) -> None:
    response = client.get(f"/calls/{call.id}/peaks.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["duration_s"] == pytest.approx(EN_DURATION_S, abs=0.01)
    assert len(data["peaks"]) == pytest.approx(EN_DURATION_S * BUCKETS_PER_SECOND, abs=1)
    assert all(0 <= peak <= 1 for peak in data["peaks"]) and max(data["peaks"]) > 0.1
    # Speech and pauses: the envelope is not flat.
    assert min(data["peaks"]) < max(data["peaks"]) / 4
    cached = store.get(peaks_key(call.id))
    assert json.loads(cached.read()) == data
    known, stored = derived_known_and_stored(session, store, call.id)
    assert known == stored and len(stored) == 1  # the retention sweep will delete it without a listing
    # A second view reads the cache instead of decoding again.
    store.put(peaks_key(call.id), io.BytesIO(json.dumps({**data, "peaks": [0.5]}).encode()))
    assert client.get(f"/calls/{call.id}/peaks.json").get_json()["peaks"] == [0.5]
    store.delete(peaks_key(call.id))


def test_a_supervisor_verifies_the_transcript_and_a_segment(
    client: FlaskClient, session: Session, call: Recording, qa: User
) -> None:
    token_page = f"/calls/{call.id}"
    assert "Not verified against audio" in page(client, call)
    whole = post_form(client, f"/calls/{call.id}/verify", {}, token_from=token_page)
    assert whole.status_code == 302 and whole.headers["Location"].endswith(f"/calls/{call.id}#transcript")
    one = post_form(client, f"/calls/{call.id}/verify", {"segment": "2"}, token_from=token_page)
    assert one.status_code == 302 and one.headers["Location"].endswith("#seg-2")

    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    session.refresh(transcript)
    assert transcript.verified_by == qa.id and transcript.verified_at is not None
    check = session.scalars(select(SegmentVerification).where(SegmentVerification.transcript_id == transcript.id)).one()
    assert (check.segment_index, check.verified_by) == (2, qa.id)
    verified = events(session, "transcript.verified", call.id)
    assert [event.details["segment"] for event in verified] == [None, 2]

    html = page(client, call)
    assert f"by {qa.username} on" in html
    assert f"Verified by {qa.username}" in html

    # A re-transcription that changes the segment voids its check.
    segments = [dict(segment) for segment in segments_of(session, transcript)]
    segments[2]["text"] = " something else"
    seal_segments(session, transcript, segments=segments, twin=twin_of(session, transcript))
    session.flush()
    assert f"Verified by {qa.username}" not in page(client, call)


def test_verification_input_is_checked(client: FlaskClient, session: Session, call: Recording, qa: User) -> None:
    token_page = f"/calls/{call.id}"
    assert post_form(client, f"/calls/{call.id}/verify", {"segment": "99"}, token_from=token_page).status_code == 422
    finnish = post_finnish(client, f"/calls/{call.id}/verify", {"segment": "99"}, token_from=token_page)
    assert finnish.status_code == 422
    assert "litteraatissa ei ole tällaista jaksoa" in visible_text(finnish.get_data(as_text=True))
    assert post_form(client, f"/calls/{call.id}/verify", {"segment": "-1"}, token_from=token_page).status_code == 422
    assert client.post(f"/calls/{call.id}/verify").status_code == 400  # no CSRF token
    assert events(session, "transcript.verified", call.id) == []


def test_verification_needs_a_person(session: Session, call: Recording) -> None:
    with pytest.raises(Forbidden):
        verify_transcript(
            session, actor=Actor(id=None, name="job", role="system"), recording_id=call.id, segment_index=None
        )


def test_the_calls_times_read_as_the_organisation_reads_them(
    client: FlaskClient, session: Session, call: Recording, qa: User
) -> None:
    """The heading and the legal-hold line showed UTC in ISO form, in Finnish too, three hours off the call list."""
    call.started_at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    hold = holds.place_hold(session, actor=OFFICER, reason="dispute", recording_id=call.id).hold
    hold.placed_at = datetime(2026, 6, 2, 21, 30, tzinfo=UTC)  # 3 June in Helsinki
    session.commit()

    html = client.get(f"/calls/{call.id}", headers={"Accept-Language": "fi"}).get_data(as_text=True)

    heading = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert heading and heading.group(1).endswith('title="2026-06-01 09:00 UTC">1.6.2026 klo 12.00</time>')
    assert re.search(r'title="2026-06-02 21:30 UTC">3\.6\.2026 klo 0\.30</time> alkaen: dispute', html)
    assert " UTC</h1>" not in html and "2026-06-01 09:00</" not in html
