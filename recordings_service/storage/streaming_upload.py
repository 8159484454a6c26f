"""Uploading what a writer produces while it produces it: the writer runs in a thread writing into a pipe,
the upload reads the other end, so a large object needs neither a spool file nor a second pass.

If the writer fails, the upload's reader raises at the end of the pipe instead of reporting a clean end,
so the multipart upload is aborted and no truncated object is stored; if the upload fails, the pipe is
closed and the writer stops on its next write.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import BinaryIO, Generic, TypeVar

from recordings_service.storage.object_store import CHUNK, ObjectStore

T = TypeVar("T")


class WriterFailed(Exception):
    """The writer stopped with an error; the upload is abandoned."""


class _Writer(threading.Thread, Generic[T]):
    def __init__(self, write: Callable[[BinaryIO], T], fd: int) -> None:
        super().__init__(name="streaming-upload-writer", daemon=True)
        self._write, self._fd = write, fd
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        destination = os.fdopen(self._fd, "wb", buffering=CHUNK)
        try:
            self.result = self._write(destination)
        except BaseException as exc:  # noqa: BLE001 — handed to the uploading thread, which re-raises it
            self.error = exc
        finally:
            # The writer may have closed it itself (Tink does); an OSError means the reader is gone: the
            # upload failed, and says why.
            with contextlib.suppress(OSError):
                destination.close()


class _Reader:
    """The pipe's read end that turns the writer's failure into an error instead of an end of stream."""

    def __init__(self, pipe: BinaryIO, writer: _Writer[T]) -> None:
        self._pipe, self._writer = pipe, writer

    def read(self, size: int = -1) -> bytes:
        data = self._pipe.read(size)
        if not data:
            self._writer.join()
            if self._writer.error is not None:
                raise WriterFailed("the writer failed; the upload is abandoned") from self._writer.error
        return data


def upload_while_writing(store: ObjectStore, key: str, write: Callable[[BinaryIO], T]) -> T:
    """Run `write(destination)` in a thread and stream what it writes to `key`; returns what `write` returns.

    The writer's own error is raised here (the upload is aborted, nothing is stored under `key`).
    """
    read_fd, write_fd = os.pipe()
    writer: _Writer[T] = _Writer(write, write_fd)
    writer.start()
    with os.fdopen(read_fd, "rb", buffering=CHUNK) as pipe:
        try:
            store.put_stream(key, _Reader(pipe, writer))  # type: ignore[arg-type]
        except WriterFailed:
            pass  # raised below as the writer's own error
        finally:
            pipe.close()  # unblocks a writer still writing after a failed upload
            writer.join()
    if writer.error is not None:
        raise writer.error
    return writer.result  # type: ignore[return-value]
