"""Waveform lanes, silences and overtalk, from real ffmpeg-decoded audio whose layout is known."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls import waveform
from recordings_service.calls.waveform import BUCKETS_PER_SECOND, peaks_key, recording_peaks
from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.audio.fixture_files import (
    OVERTALK_CALL_OVERTALK,
    OVERTALK_CALL_S,
    OVERTALK_CALL_SILENCES,
    overtalk_call,
)
from tests.factories.accounts import make_user
from tests.factories.recordings import MONO, STEREO, make_recording
from tests.factories.reviews import EN_DURATION_S

# Speech is held HANGOVER_S past its edges and measured in 50 ms buckets; the turns' own edges carry
# a little of espeak's lead-in and tail.
EDGE_S = 0.45


@pytest.fixture
def actor(session: Session) -> Actor:
    user = make_user(session, role=Role.QA_SUPERVISOR)
    return Actor(id=user.id, name=user.username, role=user.role)


def peaks_of(session: Session, store: S3ObjectStore, envelope: Envelope, actor: Actor, **call: Any) -> dict[str, Any]:
    recording = make_recording(session, store, envelope, **call)
    try:
        return recording_peaks(session, store, envelope, actor=actor, recording_id=recording.id)
    finally:
        store.delete(peaks_key(recording.id))
        store.delete(recording.storage_key)


def assert_spans(found: list[list[float]], expected: list[tuple[float, float]]) -> None:
    assert len(found) == len(expected), found
    for (start, end), (want_start, want_end) in zip(found, expected, strict=True):
        assert start == pytest.approx(want_start, abs=EDGE_S), found
        assert end == pytest.approx(want_end, abs=EDGE_S), found


@pytest.mark.parametrize("agent_channel", ["left", "right"])
def test_silence_and_overtalk_are_found_where_the_call_has_them(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
    actor: Actor,
    agent_channel: str,
) -> None:
    audio = overtalk_call(settings.ffmpeg_path())
    peaks = peaks_of(
        session, store, envelope, actor, audio=audio, duration_s=OVERTALK_CALL_S, agent_channel=agent_channel
    )

    assert_spans(peaks["silences"], OVERTALK_CALL_SILENCES)
    assert_spans(peaks["overtalk"], OVERTALK_CALL_OVERTALK)
    # The fixture's speaker on the left is whoever ingest said the agent was: the lanes follow it.
    assert [(lane["speaker"], lane["channel"]) for lane in peaks["lanes"]] == (
        [("agent", "left"), ("customer", "right")]
        if agent_channel == "left"
        else [("agent", "right"), ("customer", "left")]
    )
    left = np.array(next(lane["peaks"] for lane in peaks["lanes"] if lane["channel"] == "left"))
    right = np.array(next(lane["peaks"] for lane in peaks["lanes"] if lane["channel"] == "right"))
    assert len(left) == len(right) == pytest.approx(OVERTALK_CALL_S * BUCKETS_PER_SECOND, abs=1)
    at = lambda t: round(t * BUCKETS_PER_SECOND)  # noqa: E731
    assert left[at(1) : at(3)].max() > 0.1 and right[at(1) : at(3)].max() < 0.01  # only the left speaks
    assert right[at(12.5) : at(13.5)].max() > 0.1 and left[at(12.5) : at(13.5)].max() < 0.01
    assert min(left[at(10) : at(11)].max(), right[at(10) : at(11)].max()) > 0.1  # both at once


def test_turn_taking_with_short_pauses_is_neither_silence_nor_overtalk(
    session: Session, store: S3ObjectStore, envelope: Envelope, actor: Actor
) -> None:
    # The English fixture: six turns, one speaker at a time, 0.4 s between them.
    peaks = peaks_of(session, store, envelope, actor, audio=STEREO, duration_s=EN_DURATION_S)

    assert peaks["silences"] == []
    assert peaks["overtalk"] == []
    assert [lane["speaker"] for lane in peaks["lanes"]] == ["agent", "customer"]


def test_a_long_calls_wide_buckets_do_not_turn_taking_into_overtalk(
    session: Session, store: S3ObjectStore, envelope: Envelope, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by exploratory testing: speech was judged per bucket, and a call over MAX_BUCKETS / 20 s has wider
    ones (1.2 s in an hour's call), so a turn's end and the next turn's start in one bucket read as overtalk."""
    # The buckets of this short call as wide as those of an hour-long one, without decoding an hour.
    monkeypatch.setattr(waveform, "MAX_BUCKETS", round(EN_DURATION_S / 1.2))

    peaks = peaks_of(session, store, envelope, actor, audio=STEREO, duration_s=EN_DURATION_S)

    assert len(peaks["peaks"]) == round(EN_DURATION_S / 1.2)
    assert peaks["overtalk"] == [] and peaks["silences"] == []


def test_a_mono_call_has_one_lane_and_no_overtalk(
    session: Session, store: S3ObjectStore, envelope: Envelope, actor: Actor
) -> None:
    peaks = peaks_of(session, store, envelope, actor, audio=MONO, channels=1, duration_s=5.22, codec="pcm_s16le")

    assert [(lane["speaker"], lane["channel"]) for lane in peaks["lanes"]] == [(None, None)]
    assert peaks["lanes"][0]["peaks"] == peaks["peaks"]
    assert peaks["overtalk"] == []
