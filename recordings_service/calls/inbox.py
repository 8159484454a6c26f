"""The drop-folder inbox: audio files with JSON sidecars (`<name>.wav.json` or `<name>.json`) holding the metadata.

A pair is taken once both files have been still for `inbox_min_age_s` (writers may still be copying); extensions
are matched in any case (`CALL1.WAV` with `CALL1.JSON`), names exactly. Imported pairs move to `done/` beside a
`<name>.receipt.json` naming the recording, refused ones to `failed/` beside a `<name>.error.json` saying why.
Hidden files (a writer's `.partial` names) are ignored. Importing a pair again is a no-op. A sidecar `a.json`
that fits two audio files (`a.wav`, `a.mp3`) is filed under `failed/` saying so. A name already filed
under `done/` or `failed/` (an earlier drop of `call1.wav`) is filed as `call1~1.wav`, never over the earlier one.
Jobs processes on one machine share the inbox: each item is imported or filed holding the inbox's lock, and one
that another process took meanwhile is passed over.

Whoever may write to the inbox must not make the importer read anything else: each file is opened once
without following a symbolic link (a link, say to another user's file, is refused and filed under
`failed/` unread), the sidecar is read only up to the metadata limit, and the audio is copied once into
a private spool file that is then hashed, probed, encrypted and stored, so swapping the drop file
midway changes nothing.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import json
import logging
import os
import stat
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.ingest import MAX_METADATA_BYTES, IngestResult, ingest_recording, parse_metadata
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import CHUNK, Spool, spool_dir

logger = logging.getLogger(__name__)

INBOX_ACTOR = Actor(id=None, name="inbox", role="system")
SIDECAR = ".json"
ERROR_SUFFIX = ".error.json"
RECEIPT_SUFFIX = ".receipt.json"
# A file whose partner has not come within this long of its own arrival is filed under failed/ with the reason: left
# waiting, nobody would learn that the call was never imported (the log's waiting count was the only trace).
ORPHAN_AFTER_S = 24 * 3600


@dataclass(frozen=True)
class InboxPair:
    audio: Path
    sidecar: Path


@dataclass(frozen=True)
class AmbiguousSidecar:
    """`a.json` beside more than one audio file `a.*` without its own sidecar: which call it describes is a guess."""

    path: Path
    audio_names: list[str]


@dataclass(frozen=True)
class InboxScan:
    ready: list[InboxPair]
    waiting: int
    orphans: list[Path]  # files whose partner has not come within ORPHAN_AFTER_S
    ambiguous: list[AmbiguousSidecar]


def inbox_dir(settings: Settings) -> Path:
    return Path(settings.inbox_dir) if settings.inbox_dir else settings.data_dir / "inbox"


def scan_inbox(settings: Settings, *, now: datetime) -> InboxScan:
    """Pairs ready to import, oldest first; how many files wait (too young, or without a partner yet); the
    files whose partner has not come within a day; and the sidecars that fit more than one audio file."""
    root = inbox_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    # Symbolic links are listed (and later refused), never followed, not even to read their target's age.
    listed = [
        entry
        for entry in os.scandir(root)
        if (entry.is_file(follow_symlinks=False) or entry.is_symlink()) and not entry.name.startswith(".")
    ]
    mtimes, arrivals = {}, {}
    for entry in listed:
        try:
            status = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            # Filed by another jobs process, or taken back, since the listing: raised, it ended the run unimported.
            continue
        mtimes[entry.name] = status.st_mtime
        # A partner is waited for from the file's arrival: `rsync -a`, `cp -p` and unzip carry the source's mtime
        # over, and yesterday's sidecar copied in before its audio was filed at once as having none. The kernel
        # sets the change time on the rename or write that brought the file in, and no tool can set it back.
        arrivals[entry.name] = max(status.st_mtime, status.st_ctime)
    names = _Names(mtimes)
    ready: list[tuple[float, InboxPair]] = []
    waiting = 0
    orphans = []
    ambiguous = []
    for name, mtime in mtimes.items():
        sidecar = None
        if _is_sidecar(name):
            described = names.audio_names(name)
            if len(described) > 1:
                # Filed with the reason, so the operator renames it; left, it waited unseen beside audio files that
                # were filed a day later as having no sidecar, and then it as having no audio.
                if now.timestamp() - mtime >= settings.inbox_min_age_s:
                    ambiguous.append(AmbiguousSidecar(path=root / name, audio_names=sorted(described)))
                else:
                    waiting += 1
                continue
            if described and names.sidecar_of(described[0]) == name:
                continue  # taken with its audio
        else:
            sidecar = names.sidecar_of(name)
        if sidecar is None:
            if now.timestamp() - arrivals[name] >= ORPHAN_AFTER_S:
                orphans.append(root / name)
            else:
                waiting += 1  # its partner may still be on the way
            continue
        newest = max(mtime, mtimes[sidecar])
        if now.timestamp() - newest < settings.inbox_min_age_s:
            waiting += 1
            continue
        ready.append((newest, InboxPair(audio=root / name, sidecar=root / sidecar)))
    ready.sort(key=lambda item: item[0])
    return InboxScan(ready=[pair for _, pair in ready], waiting=waiting, orphans=sorted(orphans), ambiguous=ambiguous)


@contextmanager
def holding_inbox(settings: Settings) -> Iterator[None]:
    """The inbox to this process alone while it imports or files one item. Without it two jobs processes took the
    same pair from their scans: both probed and stored it, and the second crashed moving what the first had moved,
    leaving the rest of its scan for its next run."""
    fd = os.open(inbox_dir(settings), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def still_ready(settings: Settings, pair: InboxPair, *, now: datetime) -> bool:
    """Whether the scanned pair is still in the inbox, untouched since long enough: another process may have
    filed it since the scan, or the operator taken it back or dropped a new file under its name."""
    try:
        newest = max(path.lstat().st_mtime for path in (pair.audio, pair.sidecar))
    except FileNotFoundError:
        return False
    return now.timestamp() - newest >= settings.inbox_min_age_s


def _is_sidecar(name: str) -> bool:
    return name.lower().endswith(SIDECAR)


def _folded(name: str) -> str:
    """`name` with its extension in lower case, as telephony systems and Windows tools write it either way:
    `call1.WAV` and a sidecar `call1.wav.JSON` describing it meet at `call1.wav`."""
    suffix = Path(name).suffix
    return name.removesuffix(suffix) + suffix.lower()


class _Names:
    """The inbox's file names, indexed once for pairing. A bulk drop holds thousands, and each sidecar matched
    against every name made the scan quadratic: 3,000 pairs took 100 s, every run."""

    def __init__(self, names: Iterable[str]) -> None:
        self._audio: set[str] = set()
        self._audio_by_folded: dict[str, list[str]] = defaultdict(list)
        self._audio_by_stem: dict[str, list[str]] = defaultdict(list)  # those with an extension only
        self._sidecars_by_folded: dict[str, list[str]] = defaultdict(list)  # by the name each is named after
        for name in sorted(names):
            if _is_sidecar(name):
                self._sidecars_by_folded[_folded(name[: -len(SIDECAR)])].append(name)
                continue
            self._audio.add(name)
            self._audio_by_folded[_folded(name)].append(name)
            if Path(name).suffix:
                self._audio_by_stem[Path(name).stem].append(name)

    def audio_names(self, sidecar: str) -> list[str]:
        """The audio files a sidecar may describe: `a.wav` for `a.wav.json` (else each `a.*` that is `a.wav` with
        its extension in another case), else every `a.*` for `a.json` but those with a sidecar of their own."""
        full = sidecar[: -len(SIDECAR)]
        if full in self._audio:
            return [full]
        if same_but_case := self._audio_by_folded.get(_folded(full)):
            return same_but_case
        return [name for name in self._audio_by_stem.get(full, []) if not self._sidecars_by_folded.get(_folded(name))]

    def sidecar_of(self, audio: str) -> str | None:
        """`a.wav.json` (in any case; exactly that first), else `a.json` (in any case), each only when it describes
        this audio file alone."""
        stem = Path(audio).stem
        full = sorted(self._sidecars_by_folded.get(_folded(audio), []), key=lambda name: name != audio + SIDECAR)
        short = [name for name in self._sidecars_by_folded.get(_folded(stem), []) if name[: -len(SIDECAR)] == stem]
        candidates = full + (short if Path(audio).suffix else [])
        return next((name for name in candidates if self.audio_names(name) == [audio]), None)


def import_pair(
    session: Session, store: ObjectStore, envelope: Envelope, *, settings: Settings, pair: InboxPair
) -> IngestResult:
    """Ingest one pair from a private copy of its audio; the caller commits, then files it with `settle_pair`."""
    with _open_dropped(pair.sidecar, field="metadata") as sidecar:
        # One byte past the limit is enough for `parse_metadata` to refuse a larger file.
        metadata = parse_metadata(sidecar.read(MAX_METADATA_BYTES + 1))
    spool = Spool(spool_dir(settings), max_bytes=settings.max_upload_bytes)
    try:
        with _open_dropped(pair.audio, field="audio") as audio:
            while chunk := audio.read(CHUNK):
                spool.write(chunk)
        spool.flush()
        return ingest_recording(
            session,
            store,
            envelope,
            settings=settings,
            actor=INBOX_ACTOR,
            audio_path=spool.path,
            metadata=metadata,
            sha256=spool.sha256,
        )
    finally:
        spool.discard()


def _open_dropped(path: Path, *, field: str) -> BinaryIO:
    """`path` opened for reading if it is a regular file itself, not a link to one (nor a FIFO, which
    `O_NONBLOCK` keeps from stalling the open when one is swapped in after the scan)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Invalid(field, "the inbox file is a symbolic link; drop the file itself", code="symlink") from None
        # Filed with the reason rather than raised: raised, it stopped the run at this pair, oldest first, every run,
        # so that no later drop was imported either (and the log named the file).
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        message = f"the inbox file cannot be read ({reason}); make it readable to the jobs process and drop it again"
        raise Invalid(field, message, code="unreadable") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Invalid(field, "the inbox entry is not a regular file", code="not_a_file")
    return os.fdopen(fd, "rb")


def settle_orphan(settings: Settings, path: Path) -> bool:
    """File a file whose partner never came under `failed/`, with the reason beside it; False when it is gone."""
    if not os.path.lexists(path):
        return False  # another jobs process filed it since the scan
    sidecar = _is_sidecar(path.name)
    field, missing = ("audio", "audio file") if sidecar else ("metadata", f"metadata sidecar ({path.name}{SIDECAR})")
    hours = ORPHAN_AFTER_S // 3600
    message = f"no {missing} arrived within {hours} hours; drop both again to import the call"
    _file(settings, [path], Invalid(field, message, code="no_partner"))
    return True


def settle_ambiguous(settings: Settings, sidecar: AmbiguousSidecar) -> bool:
    """File a sidecar that fits several audio files under `failed/`, saying which; False when it is gone. The audio
    files wait for sidecars named after them."""
    if not os.path.lexists(sidecar.path):
        return False  # another jobs process filed it since the scan
    fits = " and ".join(sidecar.audio_names)
    message = (
        f"{sidecar.path.name} fits {fits}: name each sidecar after its audio file "
        f"({sidecar.audio_names[0]}{SIDECAR}) and drop it again"
    )
    _file(settings, [sidecar.path], Invalid("metadata", message, code="ambiguous_sidecar"))
    return True


def settle_pair(settings: Settings, pair: InboxPair, outcome: IngestResult | DomainError) -> None:
    """Move the pair to `done/` with a receipt naming the recording it became, or to `failed/` with the reason."""
    _file(settings, [pair.audio, pair.sidecar], outcome)


def _file(settings: Settings, paths: list[Path], outcome: IngestResult | DomainError) -> None:
    """Move `paths` (an audio file first, then its sidecar) to `failed/` with the refusal beside the first, or to
    `done/` with the receipt beside it, under names that no earlier drop filed there has."""
    if isinstance(outcome, DomainError):
        folder, suffix, note = "failed", ERROR_SUFFIX, _reason(outcome)
    else:
        folder, suffix, note = "done", RECEIPT_SUFFIX, _receipt(outcome)
    target = inbox_dir(settings) / folder
    try:
        target.mkdir(exist_ok=True)
        names = _free_names(target, [path.name for path in paths], suffix)
        (target / (names[0] + suffix)).write_text(json.dumps(note, indent=2) + "\n")
        for path, name in zip(paths, names, strict=True):
            path.replace(target / name)
    except OSError as exc:
        # Raised without the names, which are the operator's (`agent-7-cust-123.wav`): the job logs what it catches.
        raise OSError(exc.errno, f"{exc.strerror} (filing under {target.name}/)") from None


def _receipt(result: IngestResult) -> dict[str, object]:
    """What the operator traces a filed drop by: the recording it became and the hash of the audio as dropped."""
    recording = result.recording
    return {
        "recording_id": recording.id,
        "sha256": recording.pci_original_sha256 or recording.sha256,
        "filed_at": utcnow().isoformat(timespec="seconds"),
    }


def _reason(refusal: DomainError) -> dict[str, object]:
    """The refusal as the API answers it: every invalid field of a sidecar, not only the first, so that the operator
    fixes them all before dropping the pair again."""
    reason: dict[str, object] = {"error": refusal.code, "field": refusal.field, "message": refusal.message}
    if isinstance(refusal, Invalid) and refusal.errors:
        reason["errors"] = [
            {"field": each.field, "error": each.code, "message": each.message} for each in refusal.errors
        ]
    return reason


def _free_names(target: Path, names: list[str], suffix: str) -> list[str]:
    """`names` as they are, or each with `~N` after the first one's stem (`a.wav`, `a.wav.json` → `a~1.wav`,
    `a~1.wav.json`) where `target` already holds one of them or the first's note (`<name><suffix>`): an operator's
    names repeat (`call1.wav` every day), and a replace overwrote the earlier drop, in `failed/` a call never imported.
    Also where the note's name would be longer than the file system allows (a sidecar's name may be, and the note's is
    longer than the audio's): then, as wherever a name with `~N` would be, the stem is cut short to make room."""
    limit = os.pathconf(target, "PC_NAME_MAX")
    first = Path(names[0])
    stem = first.name.removesuffix(first.suffix)
    ends = [name[len(stem) :] for name in names]

    def numbered(n: int) -> list[str]:
        # Cut to no room at all, a name still too long fails to move, and the job logs it for the operator.
        room = limit - max(len(os.fsencode(f"~{n}{end}")) for end in [*ends, ends[0] + suffix])
        return [f"{_cut(stem, room)}~{n}{end}" for end in ends]

    as_dropped = [names] if len(os.fsencode(names[0] + suffix)) <= limit else []
    candidates = itertools.chain(as_dropped, map(numbered, itertools.count(1)))
    return next(
        filed for filed in candidates if not any(os.path.lexists(target / name) for name in [*filed, filed[0] + suffix])
    )


def _cut(text: str, size: int) -> str:
    """`text` less as many characters at its end as make it longer than `size` bytes as a file name."""
    while text and len(os.fsencode(text)) > size:
        text = text[:-1]
    return text
