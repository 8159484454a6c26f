"""The decoder, as a child of `fork_server` runs it for `audio.decode.decoded_pcm`: stdin to float32 PCM.

`run` gets the file to decode as stdin (a regular file, so containers that keep their index at the end can
seek) and a pipe as stdout; its request says `{"rate", "channels", "channel", "max_frames"}`. It reads the
file through the same demuxer and decoder whitelist as the probe, writes interleaved native-endian float32
frames at `rate` with `channels` channels (one picked `channel`, or all of them mixed), and stops with exit
status 2 and a reason on stderr when the file would decode to more than `max_frames`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from recordings_service.audio.probe_worker import (
    OPEN_OPTIONS,
    Refused,
    decoded_frames,
    only_audio_stream,
)

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame

REFUSED_EXIT = 2


def decode(source: BinaryIO, out: BinaryIO, *, rate: int, channels: int, channel: int | None, max_frames: int) -> None:
    """Writes the file's one audio stream to `out`; refuses it past `max_frames` output frames."""
    import av
    from av.audio.resampler import AudioResampler

    head = source.read(16)
    source.seek(0)
    try:
        container = av.open(source, "r", options=OPEN_OPTIONS, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        raise Refused("the file cannot be opened as accepted audio") from None
    with container:
        stream = only_audio_stream(container, head)
        stream.codec_context.thread_count = 1  # no decoder threads: predictable memory
        layout = "mono" if channels == 1 else "stereo"
        to_output = AudioResampler(format="flt", layout=layout, rate=rate)
        to_planar = AudioResampler(format="fltp", layout=stream.layout.name, rate=stream.rate)
        written = 0
        try:
            for frame in decoded_frames(container, stream):
                for block in _output_blocks(frame, to_output, to_planar, channel=channel):
                    written += block.samples
                    if written > max_frames:
                        raise Refused("the audio decodes to more than its probed duration")
                    out.write(_interleaved(block, channels))
            for block in to_output.resample(None):
                written += block.samples
                if written > max_frames:
                    raise Refused("the audio decodes to more than its probed duration")
                out.write(_interleaved(block, channels))
        except av.FFmpegError:
            raise Refused("the audio could not be decoded") from None


def _output_blocks(frame: AudioFrame, to_output: Any, to_planar: Any, *, channel: int | None) -> Iterator[Any]:
    import av

    if channel is None:
        yield from to_output.resample(frame)
        return
    for planar in to_planar.resample(frame):
        single = av.AudioFrame(format="fltp", layout="mono", samples=planar.samples)
        single.planes[0].update(bytes(planar.planes[channel])[: planar.samples * 4])
        single.sample_rate = planar.sample_rate
        yield from to_output.resample(single)


def _interleaved(block: Any, channels: int) -> bytes:
    # Packed float32 lies in one plane, which may be padded past its samples.
    return bytes(block.planes[0])[: block.samples * channels * 4]


def run(request: dict[str, Any]) -> int:
    try:
        with os.fdopen(0, "rb", closefd=False) as source, os.fdopen(1, "wb", closefd=False) as out:
            decode(
                source,
                out,
                rate=int(request["rate"]),
                channels=int(request["channels"]),
                channel=request["channel"],
                max_frames=int(request["max_frames"]),
            )
    except Refused as exc:
        os.write(2, str(exc).encode())
        return REFUSED_EXIT
    except BrokenPipeError:
        return 0  # the reader stopped early; nothing is wrong with the file
    return 0
