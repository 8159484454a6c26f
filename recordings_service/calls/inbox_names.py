"""Pairing the inbox's file names: which audio file each sidecar describes, in any letter case of an extension and
either Unicode form of a name (see `inbox`)."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

SIDECAR = ".json"


def is_sidecar(name: str) -> bool:
    return name.lower().endswith(SIDECAR)


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _folded(name: str) -> str:
    """`name` in NFC with its extension in lower case, as telephony systems and Windows tools write it either way and
    a Mac's copy writes `ä` as `a` and a combining diaeresis: `call1.WAV` and a sidecar `call1.wav.JSON` describing it
    meet at `call1.wav`."""
    name = _nfc(name)
    suffix = Path(name).suffix
    return name.removesuffix(suffix) + suffix.lower()


class DropNames:
    """The inbox's file names, indexed once for pairing. A bulk drop holds thousands, and each sidecar matched
    against every name made the scan quadratic: 3,000 pairs took 100 s, every run."""

    def __init__(self, names: Iterable[str]) -> None:
        self._audio: set[str] = set()
        self._audio_by_folded: dict[str, list[str]] = defaultdict(list)
        self._audio_by_stem: dict[str, list[str]] = defaultdict(list)  # those with an extension only
        self._sidecars_by_folded: dict[str, list[str]] = defaultdict(list)  # by the name each is named after
        for name in sorted(names):
            if is_sidecar(name):
                self._sidecars_by_folded[_folded(name[: -len(SIDECAR)])].append(name)
                continue
            self._audio.add(name)
            self._audio_by_folded[_folded(name)].append(name)
            if Path(name).suffix:
                self._audio_by_stem[_nfc(Path(name).stem)].append(name)

    def audio_names(self, sidecar: str) -> list[str]:
        """The audio files a sidecar may describe: `a.wav` for `a.wav.json` (else each `a.*` that is `a.wav` with
        its extension in another case or its name in another Unicode form), else every `a.*` for `a.json` but those
        with a sidecar of their own."""
        full = sidecar[: -len(SIDECAR)]
        if full in self._audio:
            return [full]
        if same_but_case := self._audio_by_folded.get(_folded(full)):
            return same_but_case
        stem = _nfc(full)
        return [name for name in self._audio_by_stem.get(stem, []) if not self._sidecars_by_folded.get(_folded(name))]

    def sidecars_of(self, audio: str) -> list[str]:
        """Those named `a.wav.json` (in any case or Unicode form), else those named `a.json`, that describe this audio
        file alone: its sidecar, or several for the operator to choose from. An `a.json` beside `a.wav.json` is one
        of those when a.wav is the only `a.*`: taken for none, it was filed a day later as having no audio."""
        stem = _nfc(Path(audio).stem)
        full = [name for name in self._sidecars_by_folded.get(_folded(audio), []) if self.audio_names(name) == [audio]]
        short = [
            name for name in self._sidecars_by_folded.get(_folded(stem), []) if _nfc(name[: -len(SIDECAR)]) == stem
        ]
        if not Path(audio).suffix:
            return full
        if full:
            alone = self._audio_by_stem.get(stem) == [audio]
            return full + [name for name in short if alone and not self.audio_names(name)]
        return [name for name in short if self.audio_names(name) == [audio]]

    def audio_of_stem(self, sidecar: str) -> list[str]:
        """Every audio file `a.*` that a sidecar `a.json` is named after, with a sidecar of its own or not."""
        return self._audio_by_stem.get(_nfc(sidecar[: -len(SIDECAR)]), [])

    def fits_none(self, sidecar: str) -> list[str]:
        """The audio files `a.*` that a sidecar `a.json` is named after when there are several and each has a sidecar
        of its own, so that it describes none of them; none otherwise."""
        every = self.audio_of_stem(sidecar)
        return every if len(every) > 1 and not self.audio_names(sidecar) else []

    def leftovers_of(self, audio: str) -> list[str]:
        """The sidecars `a.json` beside this audio file `a.wav` that describe none of the audio files `a.*` (each has
        a sidecar of its own): one still being copied holds the pairs back, so that it is seen beside them."""
        if not Path(audio).suffix:
            return []
        stem = _nfc(Path(audio).stem)
        short = self._sidecars_by_folded.get(_folded(stem), [])
        return [name for name in short if _nfc(name[: -len(SIDECAR)]) == stem and self.fits_none(name)]

    def taken_with_audio(self, sidecar: str, described: list[str]) -> bool:
        """Whether the sidecar is among those of the audio file it describes (`described`, as `audio_names` found),
        or of its stem's only audio file, which has a sidecar of its own too."""
        audio = described or self.audio_of_stem(sidecar)
        return len(audio) == 1 and sidecar in self.sidecars_of(audio[0])
