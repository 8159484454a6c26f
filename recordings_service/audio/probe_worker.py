"""The probe, as a child of `fork_server` runs it: checks an upload's header, then reads it whole.

`run` reads the file as its stdin and writes one JSON line to its stdout: `{"info": {...}}` for an accepted
file, `{"refused": "reason"}` otherwise. The module also holds what the decoder shares with it (the accepted
containers and codecs, the FFmpeg options, the process limits). It imports nothing from the package, and
loads PyAV only when asked."""

from __future__ import annotations

import importlib
import json
import math
import os
import pkgutil
import resource
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Iterator

    from av.audio.frame import AudioFrame
    from av.audio.layout import AudioLayout
    from av.audio.stream import AudioStream
    from av.container import InputContainer

# Accepted containers (FFmpeg demuxer names) and, per container, the accepted codecs (FFmpeg
# codec names). Anything else is refused before a decoder is opened.
_PCM_LE = {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"}
_PCM_BE = {"pcm_s8", "pcm_u8", "pcm_s16be", "pcm_s16le", "pcm_s24be", "pcm_s32be", "pcm_f32be"}
_G711 = {"pcm_mulaw", "pcm_alaw"}
# Bytes per sample of the codecs that store each sample in a fixed number of bytes: every whole sample frame
# of their data decodes, so the data's length is the decodable duration and the probe need not decode it.
SAMPLE_BYTES = {
    **dict.fromkeys(("pcm_u8", "pcm_s8", "pcm_mulaw", "pcm_alaw"), 1),
    **dict.fromkeys(("pcm_s16le", "pcm_s16be"), 2),
    **dict.fromkeys(("pcm_s24le", "pcm_s24be"), 3),
    **dict.fromkeys(("pcm_s32le", "pcm_s32be", "pcm_f32le", "pcm_f32be"), 4),
}
ACCEPTED: dict[str, frozenset[str]] = {
    "wav": frozenset(_PCM_LE | _G711 | {"gsm_ms", "adpcm_ima_wav"}),
    "mp3": frozenset({"mp3"}),
    "ogg": frozenset({"opus", "vorbis"}),
    "flac": frozenset({"flac"}),
    "mov,mp4,m4a,3gp,3g2,mj2": frozenset({"aac"}),
    "aiff": frozenset(_PCM_BE | _G711),
    "au": frozenset(_PCM_BE | _G711),
}
_LABELS = {"mov,mp4,m4a,3gp,3g2,mj2": "M4A"}
_ACCEPTED_NAMES = "WAV, MP3, Ogg Opus/Vorbis, FLAC, M4A/AAC, AIFF or AU"
# FFmpeg never even probes with other demuxers (no playlist, no concat list) nor opens other decoders.
DEMUXERS = "wav,mp3,ogg,flac,mov,aiff,au"
# Decoder names, which are the codec names but for MP3: FFmpeg decodes it with `mp3float`.
DECODERS = ",".join(sorted(frozenset().union(*ACCEPTED.values(), {"mp3float"})))
OPEN_OPTIONS = {"format_whitelist": DEMUXERS, "codec_whitelist": DECODERS}
MAX_CHANNELS = 2
MAX_SAMPLE_RATE = 192_000
# Decodable vs declared duration: refuse when the decodable audio falls short of the header by
# more than 10 % of the declared duration or 1 s, whichever is larger. Encoder delay and padding
# (MP3, AAC, Opus, ADPCM blocks) and bitrate-estimated MP3 headers stay well inside this; a file
# cut short, or corrupt part-way (decoding stops at the first bad packet), does not.
SHORTFALL_FRACTION = 0.10
SHORTFALL_FLOOR_S = 1.0
# An Ogg page: a 27-byte header, up to 255 lacing values and up to 255 x 255 bytes of packets.
OGG_MAX_PAGE = 27 + 255 + 255 * 255
OGG_END_OF_STREAM = 0x04
MAX_RIFF_CHUNKS = 10_000
MAX_RIFF_JUNK_BYTES = 2**20

# Leading bytes of the accepted containers: a file that starts like one but cannot be opened has a
# corrupt or truncated header; anything else is not an audio file at all.
_MAGIC: tuple[tuple[str, tuple[tuple[int, bytes], ...]], ...] = (
    ("WAV", ((0, b"RIFF"), (8, b"WAVE"))),
    ("WAV", ((0, b"RF64"), (8, b"WAVE"))),
    ("MP3", ((0, b"ID3"),)),
    ("Ogg", ((0, b"OggS"),)),
    ("FLAC", ((0, b"fLaC"),)),
    ("M4A", ((4, b"ftyp"),)),
    ("AIFF", ((0, b"FORM"), (8, b"AIF"))),
    ("AU", ((0, b".snd"),)),
)


class Refused(Exception):
    """The file is not accepted; the message says why, without quoting the file."""


def limit_resources(*, memory_bytes: int) -> None:
    """Caps this process before it loads FFmpeg or touches a file; the kernel enforces the caps."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def limit_cpu(cpu_s: int) -> None:
    """Allow `cpu_s` more seconds of CPU time, then SIGXCPU.

    RLIMIT_CPU counts the process's whole life, so the soft limit moves up by one request's worth each
    time. The caller's wall-clock timeout is what bounds a request; this stops a worker whose caller
    died mid-probe.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_s
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def seconds(value: float) -> str:
    """36000.0 -> '36000', 2.04 -> '2'; one decimal at most."""
    return f"{round(value, 1):g}"


def probe(source: BinaryIO, *, max_duration_s: float) -> dict[str, Any]:
    """Checks the header, then measures the decodable duration: by decoding the whole stream frame by frame, or
    for fixed-size samples by counting the demuxed bytes."""
    head = source.read(16)
    if not head:
        raise Refused("empty file")
    claimed = _riff_claim(source)
    source.seek(0)

    import av

    try:
        container = av.open(source, "r", options=OPEN_OPTIONS, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        raise Refused(_unopenable(head)) from None
    with container:
        stream = only_audio_stream(container, head)
        fmt, ctx = container.format.name, stream.codec_context
        declared = _declared_duration(container, stream)
        if fmt == "wav" and claimed is not None and (declared is None or claimed > declared):
            # FFmpeg trims a data chunk that claims more than the file holds; the claim is what a
            # lying or truncated header says, so it is what gets compared.
            declared = claimed
        if declared is None:
            raise Refused("unknown duration: the header does not declare one")
        if declared <= 0:
            raise Refused("zero duration")
        if declared > max_duration_s:
            raise Refused(f"duration {seconds(declared)} s exceeds the limit of {seconds(max_duration_s)} s")
        decodable = _decodable_duration(container, stream, max_duration_s=max_duration_s)
    if decodable <= 0:
        raise Refused("no audio can be decoded")
    if fmt == "ogg" and not _ogg_closed(source):
        raise Refused("the Ogg stream does not end: the file is cut short, or was still being written")
    if declared - decodable > max(SHORTFALL_FLOOR_S, SHORTFALL_FRACTION * declared):
        raise Refused(f"header declares {declared:.1f} s but only {decodable:.1f} s can be decoded")
    return {
        "container": fmt,
        "codec": ctx.codec.canonical_name,
        "sample_rate": ctx.sample_rate,
        "channels": ctx.channels,
        "duration_s": decodable,
    }


def _unopenable(head: bytes) -> str:
    for kind, marks in _MAGIC:
        if all(head[at : at + len(mark)] == mark for at, mark in marks):
            return f"corrupt or truncated {kind} header"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:  # frame sync, layer 0: an AAC ADTS frame
        return "raw AAC (ADTS) is not accepted: send the AAC audio in an M4A file"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
        return "corrupt or truncated MP3 header"
    return f"not an audio file in an accepted format ({_ACCEPTED_NAMES})"


def only_audio_stream(container: InputContainer, head: bytes) -> AudioStream:
    """The one audio stream, once container, codec, channels and sample rate are accepted."""
    from av.stream import Disposition

    fmt = container.format.name
    audio = list(container.streams.audio)
    if fmt not in ACCEPTED:
        raise Refused(_unopenable(head) if not audio else f"container {fmt} is not accepted")
    label = _LABELS.get(fmt, fmt.upper())
    # An MP3's or M4A's cover picture is a one-frame "video" stream; real video is refused.
    if any(not s.disposition & Disposition.attached_pic for s in container.streams.video):
        raise Refused(f"the {label} file contains video; only audio is accepted")
    if len(audio) != 1:
        found = "no audio stream" if not audio else f"{len(audio)} audio streams"
        raise Refused(f"{found}; exactly one audio stream is accepted")
    ctx = audio[0].codec_context
    if ctx is None:  # no decoder for the stream at all (an extensible WAV's unknown sub-format)
        raise Refused(f"a codec FFmpeg does not know is not accepted in {label} files")
    codec = ctx.codec.canonical_name
    if codec not in ACCEPTED[fmt]:
        raise Refused(f"codec {codec} is not accepted in {label} files")
    if ctx.channels > MAX_CHANNELS:
        raise Refused(f"{ctx.channels} channels; at most {MAX_CHANNELS} are accepted")
    if ctx.channels < 1:
        raise Refused("the header declares no audio channels")
    if not _plain_layout(ctx.layout):
        # FFmpeg's filters and resamplers (redaction, clips, the waveform) take mono and stereo only: such a call was
        # taken in and then could never be muted, cut or drawn, and a card payment in it stayed in the audio.
        raise Refused(
            f"channel layout {ctx.layout.name} is not accepted: send mono, or stereo with one speaker on the left and "
            "the other on the right"
        )
    if not 0 < ctx.sample_rate <= MAX_SAMPLE_RATE:
        raise Refused(f"sample rate {ctx.sample_rate} Hz is outside 1 to {MAX_SAMPLE_RATE} Hz")
    return audio[0]


def _ogg_closed(f: BinaryIO) -> bool:
    """Whether an Ogg file ends with a whole page that closes its stream (the end-of-stream flag): Ogg declares no
    length, so a copy cut short at a page boundary, or one still being written, probed as a shorter call (an inbox
    drop whose writer paused was stored as its first third). Every encoder closes the stream when it finishes."""
    size = os.fstat(f.fileno()).st_size
    start = max(0, size - OGG_MAX_PAGE)
    f.seek(start)
    tail = f.read()
    at = len(tail)
    while (at := tail.rfind(b"OggS", 0, at)) >= 0:
        header = tail[at : at + 27]
        if len(header) < 27:
            continue
        lacing = tail[at + 27 : at + 27 + header[26]]
        if at + 27 + len(lacing) + sum(lacing) == len(tail):  # a page that ends where the file does
            return bool(header[5] & OGG_END_OF_STREAM)
    return False


def _plain_layout(layout: AudioLayout) -> bool:
    """Mono, stereo (left and right), or channels whose positions the file leaves unsaid (taken as those)."""
    return layout.name in ("mono", "stereo") or all(channel.name == "NONE" for channel in layout.channels)


def _declared_duration(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _riff_claim(f: BinaryIO) -> float | None:
    """Walks a WAV's chunks; returns the data chunk's size over the byte rate, None if unknown.

    FFmpeg reads every chunk header up to the end of the file, 8 bytes at a time through zeros
    (minutes for a 2 GB tail), so a long run of bytes that are not chunks is refused first.
    """
    size = os.fstat(f.fileno()).st_size
    claimed: float | None = None
    f.seek(0)
    riff = f.read(12)
    if riff[:4] not in (b"RIFF", b"RF64") or riff[8:] != b"WAVE":
        return None
    byte_rate, data_size64, pos = 0, 0, 12
    for _ in range(MAX_RIFF_CHUNKS):
        if pos + 8 > size:
            return claimed
        f.seek(pos)
        header = f.read(8)
        tag, chunk = header[:4], int.from_bytes(header[4:], "little")
        if not all(0x20 <= b < 0x7F for b in tag):
            if size - pos > MAX_RIFF_JUNK_BYTES:
                raise Refused(f"{(size - pos) / 2**20:.0f} MiB of data that is neither audio nor a WAV chunk")
            return claimed
        body = f.read(min(chunk, 16))
        if tag == b"fmt " and len(body) >= 12:
            byte_rate = int.from_bytes(body[8:12], "little")
        elif tag == b"ds64" and len(body) >= 16:  # RF64: the real data size lives here
            data_size64 = int.from_bytes(body[8:16], "little")
        elif tag == b"data":
            if chunk == 0xFFFFFFFF and data_size64:
                chunk = data_size64
            if chunk in (0, 0xFFFFFFFF):
                return None  # a streaming writer's placeholder: the data runs to the end
            if byte_rate > 0 and claimed is None:
                claimed = chunk / byte_rate
        pos += 8 + chunk + (chunk & 1)
    raise Refused(f"more than {MAX_RIFF_CHUNKS} chunks in the WAV file")


def _decodable_duration(container: InputContainer, stream: AudioStream, *, max_duration_s: float) -> float:
    """Seconds of audio that decode before the end or the first undecodable packet."""
    import av

    ctx = stream.codec_context
    if ctx.codec.canonical_name in SAMPLE_BYTES:
        return _demuxed_duration(container, stream, max_duration_s=max_duration_s)
    ctx.thread_count = 1  # no decoder threads: predictable memory, nothing left running
    done_s = 0.0  # seconds before the latest sample-rate change
    samples = 0  # whole samples, so that a hundred thousand frames add up exactly
    rate = ctx.sample_rate
    try:
        for frame in decoded_frames(container, stream):
            if frame.sample_rate != rate:
                done_s += samples / rate
                samples, rate = 0, frame.sample_rate
            if frame.layout.nb_channels > MAX_CHANNELS:
                raise Refused(f"{frame.layout.nb_channels} channels; at most {MAX_CHANNELS} are accepted")
            samples += frame.samples
            if done_s + samples / rate > max_duration_s:
                raise Refused(f"duration exceeds the limit of {seconds(max_duration_s)} s")
    except av.FFmpegError:
        pass  # the container ends early: what decoded so far is the decodable duration, compared to the header
    return round(done_s + samples / rate, 6)


def decoded_frames(container: InputContainer, stream: AudioStream) -> Iterator[AudioFrame]:
    """The stream's frames, leaving out a packet the decoder finds damaged when a good one follows, as FFmpeg's own
    command does (one bad packet of an MP3 or AAC call, a transfer's bit error, no longer refuses the whole call;
    the time it held is missing from what decodes, so a file of damaged packets still falls short of its header).
    A damaged packet that nothing good follows is a file cut short: its error is raised at the end."""
    import av

    ctx = stream.codec_context
    damaged: av.InvalidDataError | None = None
    for packet in container.demux(stream):
        try:
            frames = ctx.decode(packet)
        except av.InvalidDataError as exc:
            damaged = exc
            continue
        if packet.size:
            damaged = None
        yield from frames
    if damaged is not None:
        raise damaged


def _demuxed_duration(container: InputContainer, stream: AudioStream, *, max_duration_s: float) -> float:
    """Seconds of fixed-size samples the stream's packets hold: what decoding them would give, at a third of
    the cost (demuxing copies the bytes; decoding also converts every sample)."""
    import av

    ctx = stream.codec_context
    frame_bytes = SAMPLE_BYTES[ctx.codec.canonical_name] * ctx.channels
    limit = max_duration_s * ctx.sample_rate * frame_bytes
    size = 0
    try:
        for packet in container.demux(stream):
            size += packet.size
            if size > limit:
                raise Refused(f"duration exceeds the limit of {seconds(max_duration_s)} s")
    except av.FFmpegError:
        pass  # as when decoding: what was read so far is what decodes
    return round(size // frame_bytes / ctx.sample_rate, 6)


def run(request: dict[str, Any]) -> int:
    """Probes stdin against `request["max_duration_s"]`; the answer goes to stdout."""
    answer: dict[str, Any]
    try:
        with os.fdopen(0, "rb", closefd=False) as source:
            answer = {"info": probe(source, max_duration_s=float(request["max_duration_s"]))}
    except Refused as exc:
        answer = {"refused": str(exc)}
    except MemoryError:
        answer = {"refused": "probing needs more memory than the limit allows"}
    os.write(1, json.dumps(answer).encode())
    return 0


def import_pyav() -> None:
    """Loads PyAV whole and silences FFmpeg's log; call it after `limit_resources`, before `confine`."""
    import av  # after the limits are in place: FFmpeg's own allocations count against them
    import av.logging

    av.logging.set_level(None)
    # PyAV imports some of its modules on first use (subtitle streams when a container has one); once
    # confined a worker can open no file, so everything is imported now.
    for module in pkgutil.walk_packages(av.__path__, "av."):
        if module.name not in {"av.__main__", "av.datasets"}:
            importlib.import_module(module.name)
