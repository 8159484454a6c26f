"""Decoding an accepted audio file to PCM, streamed from a confined worker, never in the caller's process."""

from __future__ import annotations

import math
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from recordings_service.audio.confine import warn_if_unconfined
from recordings_service.audio.probe import UnsupportedAudio
from recordings_service.audio.worker_pool import Pending, WorkerExited, WorkerTimeout
from recordings_service.audio.workers import worker_pool

# PCM is handed on this many frames at a time (256 KiB for stereo float32).
CHUNK_FRAMES = 32768
# How much longer than its probed duration a stored file may decode: encoder padding and bitrate-
# estimated MP3 headers stay well inside this (the probe allows the same shortfall the other way).
OVERRUN_FRACTION = 0.10
OVERRUN_FLOOR_S = 1.0
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
_REFUSED_EXIT = 2  # decode_worker.REFUSED_EXIT; the worker module loads PyAV, so it is not imported here
# Once the PCM has ended (or its reader has gone), the decoder's exit status follows at once; this only
# bounds a decoder caught in a loop, or a broken worker.
REPLY_TIMEOUT_S = 30.0


class DecoderStopped(UnsupportedAudio):
    """The decoder ended without judging the file (killed, out of CPU time, a broken worker): another try may
    decode it, where a refusal (FFmpeg found the data invalid) fails the same way every time."""


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
        "task": "decode",
        "rate": rate,
        "channels": channels,
        "channel": channel,
        "max_frames": max_frames,
        # Decoding runs far faster than real time; this bound only stops a decoder caught in a loop.
        "cpu_s": math.ceil(30 + 2 * max_frames / rate),
    }
    warn_if_unconfined()
    reader, writer = os.pipe()
    returncode = 0
    with source.open("rb") as stdin, tempfile.TemporaryFile() as errors, os.fdopen(reader, "rb") as pcm:
        try:
            pool = worker_pool(MEMORY_LIMIT_BYTES)
            with pool.started(spec, fds=[stdin.fileno(), writer, errors.fileno()]) as pending:
                os.close(writer)
                writer = -1
                try:
                    frames = 0
                    for raw in pcm_blocks(pcm, dtype="float32", channels=channels):
                        block = raw.view(np.float32)
                        frames += block.shape[0]
                        if frames > max_frames:  # the decoder checks too; this holds should it be taken over
                            raise UnsupportedAudio("the audio decodes to more than its probed duration")
                        yield block
                finally:
                    # At the end of the PCM the decoder has exited or is exiting; if the caller stopped reading
                    # first, closing the pipe stops it. A decoder that does not end is killed with its worker.
                    pcm.close()
                    returncode = _exit_status(pending)
        except WorkerExited as exc:  # the worker died before it took the request
            returncode = exc.returncode or -signal.SIGKILL
        finally:
            if writer >= 0:
                os.close(writer)
        if returncode != 0:
            errors.seek(0)
            raise _refusal(returncode, errors.read(4096).decode("utf-8", "replace").strip())


def _exit_status(pending: Pending) -> int:
    try:
        return int(pending.reply(timeout_s=REPLY_TIMEOUT_S)["exited"])
    except (WorkerExited, WorkerTimeout):
        return -signal.SIGKILL  # the worker is killed as the request ends


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
        return DecoderStopped("decoding used more CPU time than the audio's duration allows")
    if returncode < 0:
        return DecoderStopped(f"the decoder was stopped ({signal.Signals(-returncode).name})")
    return DecoderStopped("the audio could not be decoded")
