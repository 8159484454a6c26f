"""The audio containers Callvault accepts: the media type each is served as, its file extension and FFmpeg muxer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str
    muxer: str | None  # the FFmpeg muxer that writes this container (None: not written by Callvault)


# Keyed by FFmpeg's demuxer name, which the probe stores as a recording's container. The codecs
# accepted in each container are listed in `probe_worker.ACCEPTED`: the worker imports nothing from
# the package but `confine` (it runs confined, with little memory), so a test keeps the two lists equal.
FORMATS: dict[str, Format] = {
    "wav": Format("audio/wav", "wav", "wav"),
    "mp3": Format("audio/mpeg", "mp3", "mp3"),
    "ogg": Format("audio/ogg", "ogg", "ogg"),
    "flac": Format("audio/flac", "flac", "flac"),
    "mov,mp4,m4a,3gp,3g2,mj2": Format("audio/mp4", "m4a", "ipod"),
    "aiff": Format("audio/aiff", "aiff", "aiff"),
    "au": Format("audio/basic", "au", "au"),
}
# Served and saved as opaque bytes: a container this table does not name.
UNKNOWN = Format("application/octet-stream", "bin", None)


def format_of(container: str) -> Format:
    return FORMATS.get(container, UNKNOWN)
