"""The formats table: one entry for every container the probe accepts, opaque bytes for anything else."""

from __future__ import annotations

from recordings_service.audio.formats import FORMATS, UNKNOWN, format_of
from recordings_service.audio.probe_worker import ACCEPTED


def test_every_accepted_container_has_a_media_type_and_an_extension() -> None:
    assert set(FORMATS) == set(ACCEPTED)


def test_a_container_is_served_and_saved_by_its_entry() -> None:
    m4a = format_of("mov,mp4,m4a,3gp,3g2,mj2")
    assert (m4a.media_type, m4a.extension) == ("audio/mp4", "m4a")
    assert format_of("matroska,webm") == UNKNOWN
    assert (UNKNOWN.media_type, UNKNOWN.extension) == ("application/octet-stream", "bin")
