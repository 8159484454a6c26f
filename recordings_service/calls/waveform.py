"""The waveform of a call: peak amplitudes computed once and cached under `derived/<id>/`.

Peaks are a coarse loudness envelope, not personal data, so the cache is plain JSON. The original is
decoded in a confined worker (`audio.decode`) and streamed a block at a time, so the web worker never
holds a call's samples; the decrypted file exists only in a private temporary directory meanwhile.
A file that cannot be decoded is cached as a failure too, so that no page view decodes it again.

A stereo call has one lane per channel, the agent's first (which channel is the agent's is known from
ingest); a mono call has one lane. From the same pass come the call's silences (no channel speaking for
`SILENCE_MIN_S` or longer) and, for stereo calls, its overtalk (both speaking at once for `OVERTALK_MIN_S`
or longer). A channel "speaks" in a 50 ms frame (however wide the call's buckets) whose RMS reaches
`SPEECH_RMS`, held `HANGOVER_S` either way so that the short pauses between words do not split a turn.
"""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
from threading import Semaphore
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from recordings_service.audio.decode import decoded_pcm
from recordings_service.audio.probe import UnsupportedAudio
from recordings_service.audit import Actor
from recordings_service.errors import NotFound, Unavailable
from recordings_service.models import Recording
from recordings_service.originals import open_original
from recordings_service.playback import record_viewed
from recordings_service.recordings import get_playable_recording
from recordings_service.storage.derived import put_derived
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import scratch_dir

# 3: long calls' silences and overtalk judged in 50 ms frames, not in their wider buckets (recomputed on view).
PEAKS_VERSION = 3
BUCKETS_PER_SECOND = 20
MAX_BUCKETS = 3000
SPEECH_RMS = 0.02  # about -34 dBFS: well above line noise, well below speech
HANGOVER_S = 0.25
SILENCE_MIN_S = 2.0
OVERTALK_MIN_S = 0.5

logger = logging.getLogger(__name__)


def peaks_key(recording_id: str) -> str:
    return f"derived/{recording_id}/peaks.json"


def recording_peaks(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    recording_id: str,
    cache: bool = True,
    slots: Semaphore | None = None,
) -> dict[str, Any]:
    """The cached peaks of a recording `actor` may see, computing and caching them on first use; audited as
    `recording.waveform_viewed` (where the call is silent and where both speak at once is its audio's).

    With `slots`, peaks not cached yet are computed only while one of them is free, else refused as `Unavailable`
    (try again shortly): a web worker computes a bounded number at once. Before, each viewer of a long call not yet
    cached decoded it whole in a thread of its own (77 s for a three-hour FLAC of 8.5 MB): eight viewers held every
    thread of the web workers, and health checks went unanswered."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id)
    peaks = cached_peaks(session, store, envelope, recording=recording, cache=cache, slots=slots)
    record_viewed(session, actor=actor, recording_id=recording.id, action="recording.waveform_viewed")
    return peaks


def cached_peaks(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    recording: Recording,
    cache: bool = True,
    slots: Semaphore | None = None,
) -> dict[str, Any]:
    """The peaks cached under `derived/<id>/`, computed and cached when missing or of an older version. The
    jobs process caches them after transcription, so that a call's first view does not wait for its decoding.

    `cache` False, for a caller that commits nothing (a HEAD): missing peaks are computed and not stored. Stored, the
    object outlived the rolled-back row naming its version, and the retention sweep, which deletes derivatives by
    those rows, left it to the proof after it."""
    key = peaks_key(recording.id)
    try:
        body = store.get(key)
    except NotFound:
        pass
    else:
        try:
            cached: dict[str, Any] = json.loads(body.read())
        finally:
            body.close()
        if cached.get("version") == PEAKS_VERSION:
            return cached
    if slots is not None and not slots.acquire(blocking=False):
        raise Unavailable(f"the waveform of recording {recording.id} is being prepared; try again shortly")
    try:
        peaks = compute_peaks(store, envelope, recording=recording)
    finally:
        if slots is not None:
            slots.release()
    if cache:
        # Two first viewers may both compute; they write the same bytes, so the race is harmless.
        body = io.BytesIO(json.dumps(peaks, separators=(",", ":")).encode())
        put_derived(session, store, recording=recording, key=key, body=body)
    return peaks


def compute_peaks(store: ObjectStore, envelope: Envelope, *, recording: Recording) -> dict[str, Any]:
    """Each bucket's peak (0..1) per lane and over all channels, with the silences and overtalk found; an
    empty, `failed` envelope for audio that cannot be decoded."""
    rate = recording.sample_rate
    expected = max(1, math.ceil(recording.duration_s * rate))
    count = max(1, min(MAX_BUCKETS, math.ceil(recording.duration_s * BUCKETS_PER_SECOND), expected))
    per_bucket = math.ceil(expected / count)
    # Who speaks is judged in frames of 1/BUCKETS_PER_SECOND whatever the call's length: in a long call's wider
    # buckets (1.2 s in an hour) one turn ending and the next beginning filled the same bucket, read as overtalk.
    per_frame = math.ceil(rate / BUCKETS_PER_SECOND)
    frame_count = max(1, math.ceil(expected / per_frame))
    channels = 2 if recording.channels == 2 else 1
    peaks = np.zeros((count, channels), dtype=np.float32)
    energy = np.zeros((frame_count, channels), dtype=np.float64)
    sizes = np.zeros(frame_count, dtype=np.int64)
    frames = 0
    with scratch_dir("peaks") as scratch:
        path = scratch / "original"
        with open_original(store, envelope, recording) as plaintext, path.open("wb") as out:
            shutil.copyfileobj(plaintext, out)  # type: ignore[misc]
        try:
            for block in decoded_pcm(path, duration_s=recording.duration_s, rate=rate, channels=channels):
                # The decoder may run a little past the probed duration; that tail joins the last bucket and frame.
                positions = frames + np.arange(len(block))
                buckets = np.minimum(positions // per_bucket, count - 1)
                speech_frames = np.minimum(positions // per_frame, frame_count - 1)
                np.maximum.at(peaks, buckets, np.abs(block))
                np.add.at(energy, speech_frames, np.square(block, dtype=np.float64))
                np.add.at(sizes, speech_frames, 1)
                frames += len(block)
        except UnsupportedAudio as exc:
            logger.warning("waveform not computed", extra={"recording_id": recording.id, "reason": exc.reason})
            return {
                "version": PEAKS_VERSION,
                "duration_s": recording.duration_s,
                "peaks": [],
                "lanes": [],
                "silences": [],
                "overtalk": [],
                "failed": True,
            }
    duration_s = round(frames / rate, 3)
    frame_s = per_frame / rate
    rms = np.sqrt(energy / np.maximum(sizes, 1)[:, None])
    speaking = _held(rms >= SPEECH_RMS, hold=round(HANGOVER_S / frame_s))
    nobody: npt.NDArray[np.bool_] = ~np.any(speaking, axis=1)
    everybody: npt.NDArray[np.bool_] = np.all(speaking, axis=1)
    silences = _spans(nobody, frame_s=frame_s, min_s=SILENCE_MIN_S, end_s=duration_s)
    overtalk = _spans(everybody, frame_s=frame_s, min_s=OVERTALK_MIN_S, end_s=duration_s)
    return {
        "version": PEAKS_VERSION,
        "duration_s": duration_s,
        "peaks": _rounded(peaks.max(axis=1)),
        "lanes": [
            {"speaker": speaker, "channel": channel, "peaks": _rounded(peaks[:, column])}
            for speaker, channel, column in lanes_of(recording)
        ],
        "silences": silences,
        "overtalk": overtalk if channels == 2 else [],
    }


def lanes_of(recording: Recording) -> list[tuple[str | None, str | None, int]]:
    """(speaker, channel, column in the decoded PCM) for each lane: the agent's channel first in a stereo call
    whose agent channel is known, left then right when it is not, one unnamed lane for a mono call."""
    if recording.channels != 2:
        return [(None, None, 0)]
    if recording.agent_channel == "right":
        return [("agent", "right", 1), ("customer", "left", 0)]
    if recording.agent_channel == "left":
        return [("agent", "left", 0), ("customer", "right", 1)]
    return [(None, "left", 0), (None, "right", 1)]


def _rounded(values: npt.NDArray[np.float32]) -> list[float]:
    return [round(min(1.0, float(value)), 3) for value in values]


def _held(active: npt.NDArray[np.bool_], *, hold: int) -> npt.NDArray[np.bool_]:
    """`active` (frames × channels) widened by `hold` frames on both sides of every active frame."""
    held = active.copy()
    for shift in range(1, hold + 1):
        held[shift:] |= active[:-shift]
        held[:-shift] |= active[shift:]
    return held


def _spans(mask: npt.NDArray[np.bool_], *, frame_s: float, min_s: float, end_s: float) -> list[list[float]]:
    """The runs of True in `mask` lasting `min_s` or longer, as [start, end] seconds."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    spans = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        start, end = first * frame_s, min(stop * frame_s, end_s)
        if end - start >= min_s:
            spans.append([round(float(start), 2), round(float(end), 2)])
    return spans
