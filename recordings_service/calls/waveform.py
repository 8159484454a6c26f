"""The waveform of a call: peak amplitudes computed once with pydub and cached under `derived/<id>/`.

Peaks are a coarse loudness envelope, not personal data, so the cache is plain JSON; the decoded audio
they come from exists only in a private temporary directory while they are computed.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.errors import NotFound
from recordings_service.models import Recording
from recordings_service.recordings import get_playable_recording, open_original
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore

PEAKS_VERSION = 1
BUCKETS_PER_SECOND = 20
MAX_BUCKETS = 3000


def peaks_key(recording_id: str) -> str:
    return f"derived/{recording_id}/peaks.json"


def recording_peaks(
    session: Session, store: ObjectStore, envelope: Envelope, *, actor: Actor, recording_id: str, ffmpeg: str
) -> dict[str, Any]:
    """The cached peaks of a recording `actor` may see, computing and caching them on first use."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id)
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
    peaks = compute_peaks(store, envelope, recording=recording, ffmpeg=ffmpeg)
    # Two first viewers may both compute; they write the same bytes, so the race is harmless.
    store.put(key, io.BytesIO(json.dumps(peaks, separators=(",", ":")).encode()))
    return peaks


def compute_peaks(store: ObjectStore, envelope: Envelope, *, recording: Recording, ffmpeg: str) -> dict[str, Any]:
    """Decode the original with pydub and keep each bucket's peak (0..1, loudest channel)."""
    with tempfile.TemporaryDirectory(prefix="callvault-peaks-") as scratch:
        path = Path(scratch) / "original"
        with open_original(store, envelope, recording) as plaintext, path.open("wb") as out:
            shutil.copyfileobj(plaintext, out)  # type: ignore[misc]
        segment = _decoder(ffmpeg).from_file(
            str(path),
            # There is no ffprobe beside the pip ffmpeg: naming the demuxer and decoder stops pydub asking it.
            format=recording.container.split(",")[0] or None,
            codec=recording.codec or None,
        )
    samples = np.asarray(segment.get_array_of_samples())
    frames = np.abs(samples.reshape(-1, segment.channels).astype(np.float32)).max(axis=1)
    full_scale = float(2 ** (8 * segment.sample_width - 1))
    duration_s = len(frames) / segment.frame_rate if segment.frame_rate else 0.0
    count = max(1, min(MAX_BUCKETS, math.ceil(duration_s * BUCKETS_PER_SECOND), len(frames)))
    peaks = [
        round(float(bucket.max()) / full_scale, 3) if bucket.size else 0.0 for bucket in np.array_split(frames, count)
    ]
    return {"version": PEAKS_VERSION, "duration_s": round(duration_s, 3), "peaks": peaks}


def _decoder(ffmpeg: str) -> Any:
    """pydub's AudioSegment bound to `ffmpeg`, without changing the class every other caller shares."""
    with warnings.catch_warnings():
        # pydub warns at import when no ffmpeg is on PATH; ours is passed explicitly instead.
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment
    return type("CallvaultAudioSegment", (AudioSegment,), {"converter": ffmpeg})
