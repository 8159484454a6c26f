"""The waveform of a call: peak amplitudes computed once and cached under `derived/<id>/`.

Peaks are a coarse loudness envelope, not personal data, so the cache is plain JSON. The original is
decoded in a confined worker (`audio.decode`) and streamed a block at a time, so the web worker never
holds a call's samples; the decrypted file exists only in a private temporary directory meanwhile.
A file that cannot be decoded is cached as a failure too, so that no page view decodes it again.
"""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from recordings_service.audio.decode import decoded_pcm
from recordings_service.audio.probe import UnsupportedAudio
from recordings_service.audit import Actor
from recordings_service.errors import NotFound
from recordings_service.models import Recording
from recordings_service.recordings import get_playable_recording, open_original
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore

PEAKS_VERSION = 1
BUCKETS_PER_SECOND = 20
MAX_BUCKETS = 3000

logger = logging.getLogger(__name__)


def peaks_key(recording_id: str) -> str:
    return f"derived/{recording_id}/peaks.json"


def recording_peaks(
    session: Session, store: ObjectStore, envelope: Envelope, *, actor: Actor, recording_id: str
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
    peaks = compute_peaks(store, envelope, recording=recording)
    # Two first viewers may both compute; they write the same bytes, so the race is harmless.
    store.put(key, io.BytesIO(json.dumps(peaks, separators=(",", ":")).encode()))
    return peaks


def compute_peaks(store: ObjectStore, envelope: Envelope, *, recording: Recording) -> dict[str, Any]:
    """Each bucket's peak (0..1, loudest channel), or an empty, `failed` envelope for audio that cannot be decoded."""
    rate = recording.sample_rate
    expected = max(1, math.ceil(recording.duration_s * rate))
    count = max(1, min(MAX_BUCKETS, math.ceil(recording.duration_s * BUCKETS_PER_SECOND), expected))
    per_bucket = math.ceil(expected / count)
    peaks = np.zeros(count, dtype=np.float32)
    frames = 0
    with tempfile.TemporaryDirectory(prefix="callvault-peaks-") as scratch:
        path = Path(scratch) / "original"
        with open_original(store, envelope, recording) as plaintext, path.open("wb") as out:
            shutil.copyfileobj(plaintext, out)  # type: ignore[misc]
        try:
            for block in decoded_pcm(path, duration_s=recording.duration_s, rate=rate, channels=recording.channels):
                # The decoder may run a little past the probed duration; that tail joins the last bucket.
                buckets = np.minimum((frames + np.arange(len(block))) // per_bucket, count - 1)
                np.maximum.at(peaks, buckets, np.abs(block).max(axis=1))
                frames += len(block)
        except UnsupportedAudio as exc:
            logger.warning("waveform not computed", extra={"recording_id": recording.id, "reason": exc.reason})
            return {"version": PEAKS_VERSION, "duration_s": recording.duration_s, "peaks": [], "failed": True}
    peak_list = [round(min(1.0, float(peak)), 3) for peak in peaks]
    return {"version": PEAKS_VERSION, "duration_s": round(frames / rate, 3), "peaks": peak_list}
