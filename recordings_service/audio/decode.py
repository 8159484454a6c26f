"""Decoding an accepted audio file to PCM, streamed from a confined worker, never in the caller's process."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from recordings_service.audio.confine import confined_command, warn_if_unconfined
from recordings_service.audio.probe import UnsupportedAudio

# PCM is handed on this many frames at a time (256 KiB for stereo float32).
CHUNK_FRAMES = 32768
# How much longer than its probed duration a stored file may decode: encoder padding and bitrate-
# estimated MP3 headers stay well inside this (the probe allows the same shortfall the other way).
OVERRUN_FRACTION = 0.10
OVERRUN_FLOOR_S = 1.0
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
_REFUSED_EXIT = 2  # decode_worker.REFUSED_EXIT; the worker module loads PyAV, so it is not imported here


def decoded_pcm(
    source: Path, *, duration_s: float, rate: int, channels: int, channel: int | None = None
) -> Iterator[npt.NDArray[np.float32]]:
    """`source` as float32 (frames, channels) blocks at `rate`, decoded in a confined worker.

    `channel` picks one channel of the file (then `channels` is 1); otherwise all are mixed to
    `channels`. The output is capped before anything is decoded at the probed `duration_s` plus a
    small overrun, times `rate` and `channels`: a file that decodes to more is refused with
    `UnsupportedAudio`, whatever its header claims. Memory stays flat: one block at a time.
    """
    if channels not in (1, 2) or (channel is not None and channels != 1):
        raise ValueError("channels is 1 or 2, and 1 when a channel is picked")
    max_frames = math.ceil((duration_s + max(OVERRUN_FLOOR_S, OVERRUN_FRACTION * duration_s)) * rate)
    spec = {
        "rate": rate,
        "channels": channels,
        "channel": channel,
        "max_frames": max_frames,
        "memory_bytes": MEMORY_LIMIT_BYTES,
        # Decoding runs far faster than real time; this bound only stops a decoder caught in a loop.
        "cpu_s": math.ceil(30 + 2 * max_frames / rate),
    }
    warn_if_unconfined()
    with source.open("rb") as stdin, tempfile.TemporaryFile() as errors:
        worker = subprocess.Popen(
            confined_command(["-m", "recordings_service.audio.decode_worker", json.dumps(spec)]),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={},
            cwd="/",
        )
        assert worker.stdout is not None
        finished = False
        try:
            frames = 0
            for raw in pcm_blocks(worker.stdout, dtype="float32", channels=channels):
                block = raw.view(np.float32)
                frames += block.shape[0]
                if frames > max_frames:  # the worker checks too; this holds should it be taken over
                    raise UnsupportedAudio("the audio decodes to more than its probed duration")
                yield block
            finished = True
        finally:
            if not finished:
                worker.kill()
            worker.stdout.close()
            returncode = worker.wait()
        if returncode != 0:
            errors.seek(0)
            raise _refusal(returncode, errors.read(4096).decode("utf-8", "replace").strip())


def pcm_blocks(stream: IO[bytes], *, dtype: str, channels: int) -> Iterator[npt.NDArray[np.generic]]:
    """Whole frames from a raw PCM stream, at most CHUNK_FRAMES at a time, as (frames, channels) arrays."""
    frame_bytes = np.dtype(dtype).itemsize * channels
    pending = bytearray()
    while True:
        data = stream.read(CHUNK_FRAMES * frame_bytes - len(pending))
        if not data:
            break
        pending += data
        whole = len(pending) - len(pending) % frame_bytes
        if whole:
            yield np.frombuffer(bytearray(pending[:whole]), dtype=dtype).reshape(-1, channels)
            del pending[:whole]
    # A trailing partial frame cannot come from a raw PCM writer; it is dropped like ffmpeg would.


def _refusal(returncode: int, reason: str) -> UnsupportedAudio:
    if returncode == _REFUSED_EXIT and reason:
        return UnsupportedAudio(reason.splitlines()[-1])
    if returncode == -signal.SIGXCPU:
        return UnsupportedAudio("decoding used more CPU time than the audio's duration allows")
    if returncode < 0:
        return UnsupportedAudio(f"the decoder was stopped ({signal.Signals(-returncode).name})")
    return UnsupportedAudio("the audio could not be decoded")
