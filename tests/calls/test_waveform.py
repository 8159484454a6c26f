"""Waveform peaks: streamed from the confined decoder, bounded by the probed duration, a failure cached once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.waveform import BUCKETS_PER_SECOND, peaks_key, recording_peaks
from recordings_service.config import Settings
from recordings_service.errors import NotFound
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import make_user
from tests.factories.recordings import MONO, STEREO, ingest_file


@pytest.fixture
def actor(session: Session) -> Actor:
    user = make_user(session, role=Role.QA_SUPERVISOR)
    return Actor(id=user.id, name=user.username, role=user.role)


@pytest.mark.parametrize("path", [STEREO, MONO], ids=["stereo", "mono"])
def test_peaks_follow_the_loudest_channel_over_the_whole_call(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, actor: Actor, path: object
) -> None:
    layout = {"channel_layout": "mono", "agent_channel": ...} if path == MONO else {}
    recording = ingest_file(session, store, envelope, settings, path, **layout).recording  # type: ignore[arg-type]
    try:
        peaks = recording_peaks(session, store, envelope, actor=actor, recording_id=recording.id)
    finally:
        store.delete(peaks_key(recording.id))
    assert peaks["duration_s"] == pytest.approx(recording.duration_s, abs=0.01)
    assert len(peaks["peaks"]) == pytest.approx(recording.duration_s * BUCKETS_PER_SECOND, abs=1)
    assert all(0 <= peak <= 1 for peak in peaks["peaks"]) and max(peaks["peaks"]) > 0.1
    assert "failed" not in peaks


def test_audio_that_decodes_past_its_probed_duration_is_cached_as_a_failure_and_never_decoded_again(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, actor: Actor
) -> None:
    recording: Recording = ingest_file(session, store, envelope, settings).recording
    # As if the probe had been told 2 s by a lying header: the decoder's cap stops it at 3 s.
    recording.duration_s = 2.0
    session.flush()
    try:
        first = recording_peaks(session, store, envelope, actor=actor, recording_id=recording.id)
        assert first["failed"] is True and first["peaks"] == []
        body = store.get(peaks_key(recording.id))
        try:
            assert json.loads(body.read()) == first
        finally:
            body.close()

        # With the original gone, a second decode could only fail differently; the cached answer is served.
        store.delete(recording.storage_key)
        with pytest.raises(NotFound):
            store.get(recording.storage_key)
        assert recording_peaks(session, store, envelope, actor=actor, recording_id=recording.id) == first
    finally:
        store.delete(peaks_key(recording.id))
