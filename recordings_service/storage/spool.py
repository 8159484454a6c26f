"""Spooling uploads to disk: a size-capped temporary file that hashes what is written as it is written.

Uploads are never held whole in memory: the web process hands each received chunk to a `Spool`, and
the checksums the client sent are compared with the digests computed here on the way through.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from recordings_service.config import Settings
from recordings_service.errors import TooLarge

CHUNK = 1024 * 1024


def spool_dir(settings: Settings) -> Path:
    """Where uploads and encrypted copies wait before they reach the store (same disk as the data)."""
    path = settings.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Spool:
    """A temporary file under `directory` that keeps SHA-256 (and, when asked, MD5) of its content and
    refuses to grow past `max_bytes`. It is file-like enough for Werkzeug's form parser (write, seek, read).

    MD5 is computed only for a client that sends one to compare: it costs four times SHA-256's time.
    """

    def __init__(self, directory: Path, *, max_bytes: int, field: str = "audio", md5: bool = False) -> None:
        fd, name = tempfile.mkstemp(prefix="upload-", dir=directory)
        self.path = Path(name)
        self._file: BinaryIO = os.fdopen(fd, "w+b")
        self._max_bytes = max_bytes
        self._field = field
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self._max_bytes:
            raise TooLarge(self._field, f"the upload exceeds the limit of {self._max_bytes} bytes", code="too_large")
        self._sha256.update(data)
        if self._md5 is not None:
            self._md5.update(data)
        return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> bytes:
        if self._md5 is None:
            raise RuntimeError("this spool was not asked to keep MD5")
        return self._md5.digest()

    def close(self) -> None:
        self._file.close()

    def discard(self) -> None:
        """Close and delete the file; safe to call twice."""
        self._file.close()
        self.path.unlink(missing_ok=True)


# How a scratch folder's name begins (`scratch_dir`): in the system's temporary folder, only these are purged.
SCRATCH_PREFIX = "callvault-scratch-"


@contextmanager
def scratch_dir(purpose: str, *, parent: Path | None = None) -> Iterator[Path]:
    """A private folder for work on plaintext (a decrypted original, a package being assembled) in `parent` (the
    system's temporary folder by default), named for its `purpose` and removed when the work ends. Its process
    holds a lock on it while it lives, so one that a killed process left behind is found and removed
    (`purge_stale_spools`)."""
    with tempfile.TemporaryDirectory(
        prefix=f"{SCRATCH_PREFIX}{purpose}-", dir=parent, ignore_cleanup_errors=True
    ) as name:
        lock = os.open(name, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield Path(name)
        finally:
            os.close(lock)


def purge_stale_spools(settings: Settings, *, older_than_s: float, now: float) -> int:
    """Delete what killed processes left behind: spooled files (live uploads are younger than `older_than_s`), and
    scratch folders of plaintext no living process holds, in the spool folder and the system's temporary folder."""
    removed = 0
    spools = spool_dir(settings)
    for path in spools.iterdir():
        if path.is_file() and _older_than(path, older_than_s, now=now):
            path.unlink(missing_ok=True)
            removed += 1
    for parent in (spools, Path(tempfile.gettempdir())):
        for path in parent.iterdir():
            stale = path.name.startswith(SCRATCH_PREFIX) and _older_than(path, older_than_s, now=now)
            if stale and path.is_dir() and not path.is_symlink():
                removed += _remove_abandoned(path)
    return removed


def _older_than(path: Path, seconds: float, *, now: float) -> bool:
    """Whether `path` was last changed over `seconds` before `now`; False for one gone since it was listed (a living
    process's upload or scratch folder finished meanwhile: the reconcile job's purge stopped there, on
    FileNotFoundError)."""
    try:
        return now - path.lstat().st_mtime > seconds
    except FileNotFoundError:
        return False


def _remove_abandoned(path: Path) -> int:
    """Remove the scratch folder unless a living process holds its lock; 1 if it went."""
    try:
        lock = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # gone meanwhile, or not ours to open
        return 0
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return 0
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        os.close(lock)
    return 1
