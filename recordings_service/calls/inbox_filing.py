"""Filing the inbox's items: each moved to `done/` beside a receipt naming the recording it became, or to `failed/`
beside a note saying why, under names no earlier drop filed there has, as the calling job holds the inbox's lock."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path

from recordings_service.calls import inbox_attempts
from recordings_service.calls.inbox import (
    ERROR_SUFFIX,
    ORPHAN_AFTER_S,
    RECEIPT_SUFFIX,
    AmbiguousPair,
    AmbiguousSidecar,
    FileIdentity,
    InboxPair,
    drop_status,
    file_identity,
    inbox_dir,
    is_note,
    noted_item,
)
from recordings_service.calls.inbox_names import SIDECAR, is_sidecar
from recordings_service.calls.ingest import IngestResult
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid

# Refusals of a call that may not be kept at all: its dropped files are removed, not filed under failed/, where they
# stayed unencrypted and naming the customer (39 % of one legacy archive's calls were past their retention).
NOT_TO_BE_KEPT = frozenset({"erased", "past_retention"})
REMOVED = (
    "the dropped audio and sidecar were removed, not filed here: a call that may not be kept is not kept in the inbox "
    "either; if the refusal was wrong (the call's start, its customer), drop it again from its source, corrected"
)


class NotFiled(DomainError):
    """An item that failed unexpectedly (not refused for what it holds) in `MAX_ATTEMPTS` runs in a row."""

    code = "not_filed"


class ImportedNotFiled(Exception):
    """A pair whose recording is stored and committed, but that could not be moved into `done/`."""

    def __init__(self, recording_id: str) -> None:
        super().__init__("the pair was imported but could not be filed under done/")
        self.recording_id = recording_id


def settle_orphan(settings: Settings, path: Path, *, notes: Sequence[Path] = ()) -> bool:
    """File a file whose partner never came under `failed/`, with the reason beside it; False when it is gone.
    `notes`: the importer's earlier notes on it, as the scan found them (`InboxScan.notes_of`), to be removed."""
    if drop_status(path) is None:
        return False  # another jobs process filed it since the scan
    sidecar = is_sidecar(path.name)
    field, missing = ("audio", "audio file") if sidecar else ("metadata", f"metadata sidecar ({path.name}{SIDECAR})")
    hours = ORPHAN_AFTER_S // 3600
    message = f"no {missing} arrived within {hours} hours; drop both again to import the call"
    _file(settings, [path], Invalid(field, message, code="no_partner"), notes=notes)
    return True


def settle_ambiguous(settings: Settings, sidecar: AmbiguousSidecar, *, notes: Sequence[Path] = ()) -> bool:
    """File a sidecar that fits several audio files under `failed/`, saying which; False when it is gone. The audio
    files wait for sidecars named after them (or, when each has its own already, are imported with them)."""
    if drop_status(sidecar.path) is None:
        return False  # another jobs process filed it since the scan
    fits = " and ".join(sidecar.audio_names)
    if sidecar.described:
        message = (
            f"{sidecar.path.name} fits {fits}, and each of them has a sidecar of its own already: none is left for "
            f"it to describe; to import another call, drop its audio file with this sidecar named after it"
        )
    else:
        message = (
            f"{sidecar.path.name} fits {fits}: name each sidecar after its audio file "
            f"({sidecar.audio_names[0]}{SIDECAR}) and drop it again"
        )
    _file(settings, [sidecar.path], Invalid("metadata", message, code="ambiguous_sidecar"), notes=notes)
    return True


def settle_ambiguous_pair(settings: Settings, item: AmbiguousPair, *, notes: Sequence[Path] = ()) -> bool:
    """File an audio file with all its sidecars under `failed/`, naming them; False when one of them is gone."""
    paths = [item.audio, *item.sidecars]
    if any(drop_status(path) is None for path in paths):
        return False  # another jobs process filed them since the scan, or the operator took one back
    message = (
        f"{item.audio.name} has {len(item.sidecars)} sidecars ({', '.join(path.name for path in item.sidecars)}): "
        f"keep the one that describes it and drop the pair again"
    )
    _file(settings, paths, Invalid("metadata", message, code="ambiguous_sidecar"), notes=notes)
    return True


def settle_stray_note(settings: Settings, note: Path, *, notes: Sequence[Path] = ()) -> bool:
    """File a note the importer wrote whose item has not been beside it for a day under `failed/`, saying so; False
    when it is gone, or its item is back. Not under `done/`, even a receipt: that folder holds what was imported,
    each receipt beside its call, and a receipt alone there would pass for a call whose files were lost."""
    item = noted_item(note.name)
    if drop_status(note) is None or drop_status(note.with_name(item)) is not None:
        return False  # another jobs process filed it since the scan, or the operator brought its item back
    hours = ORPHAN_AFTER_S // 3600
    message = (
        f"{note.name} is a note the importer wrote on {item}, and no {item} was beside it in the inbox within {hours} "
        f"hours; to try {item} again, drop it with its partner"
    )
    field = "metadata" if is_sidecar(item) else "audio"
    _file(settings, [note], Invalid(field, message, code="no_partner"), notes=notes)
    return True


def settle_failure(
    settings: Settings,
    paths: list[Path],
    *,
    now: datetime,
    found_as: str | None,
    recording_id: str | None = None,
    notes: Sequence[Path] = (),
) -> bool:
    """Count an unexpected failure of the item made of `paths` (holding the inbox; `found_as`, its
    `inbox_attempts.item_key` when the run took it up), a pair imported as `recording_id` that could not be filed;
    once it has failed so `MAX_ATTEMPTS` times in a row, file it under `failed/`, saying where to look (and which
    recording it became, in any of those runs), and answer True."""
    attempts, recording_id = inbox_attempts.count_failure(
        inbox_dir(settings), paths, now=now, found_as=found_as, recording_id=recording_id
    )
    if attempts < inbox_attempts.MAX_ATTEMPTS:
        return False
    # The log has the error; the note must not, as it may quote the file (or a database row) and is the operator's.
    failure = (
        f"after {attempts} attempts, each failing unexpectedly: see the jobs log's warnings 'inbox item not filed' "
        f"for why"
    )
    if recording_id is None:
        message = f"the inbox item could not be filed {failure}, then move it back into the inbox to try again"
        _file(settings, paths, NotFiled(message), notes=notes)
        return True
    # Said as it is: a note saying only 'not filed' sent the operator to drop again a call already stored.
    message = (
        f"the call was imported as recording {recording_id}, but the pair could not be filed under done/ {failure}; "
        f"moved back into the inbox, it is filed under done/ with its receipt (already imported)"
    )
    _file(settings, paths, NotFiled(message, values={"recording_id": recording_id}), notes=notes)
    return True


def settle_pair(
    settings: Settings,
    pair: InboxPair,
    outcome: IngestResult | DomainError,
    *,
    notes: Sequence[Path] = (),
    read: Collection[FileIdentity] = (),
) -> None:
    """Move the pair to `done/` with a receipt naming the recording it became, or to `failed/` with the reason; a
    call that may not be kept has its files removed there, if they are the files `import_pair` `read` (a new drop
    renamed into either's place meanwhile is filed, never removed unread). An imported pair that cannot be moved
    raises `ImportedNotFiled`, so that giving it up says what it became."""
    try:
        _file(settings, [pair.audio, pair.sidecar], outcome, notes=notes, read=read)
    except OSError as exc:
        if isinstance(outcome, IngestResult):
            raise ImportedNotFiled(outcome.recording.id) from exc
        raise


def _file(
    settings: Settings,
    paths: list[Path],
    outcome: IngestResult | DomainError,
    *,
    notes: Sequence[Path] = (),
    read: Collection[FileIdentity] = (),
) -> None:
    """Move `paths` (an audio file first, then its sidecar) to `failed/` with the refusal beside the first, or to
    `done/` with the receipt beside it, under names that no earlier drop filed there has. The notes an earlier filing
    wrote on any of them, moved back with the item to retry it, are removed: the retry's outcome stands alone. They
    are the `notes` the scan found (`InboxScan.notes_of`), in any letter case (`a.wav.ERROR.JSON`, as `is_note`
    takes it), on any of the files: only the first's were removed, so that a sidecar's note (`a.wav.json.error.json`,
    from when it was filed alone) was left, and filed a day later as a stray note."""
    if isinstance(outcome, DomainError):
        folder, suffix, note = "failed", ERROR_SUFFIX, _reason(outcome)
    else:
        folder, suffix, note = "done", RECEIPT_SUFFIX, _receipt(outcome)
    try:
        target = _open_folder(inbox_dir(settings), folder)
        try:
            names = _free_names(target, [path.name for path in paths], suffix)
            _write_note(target, names[0] + suffix, note)
            _move_together(paths, names, target=target, note=names[0] + suffix)
            # Moved first, as one (a removal that failed halfway left a sidecar to be filed as an orphan), and each
            # checked to be the file read where it now is.
            if isinstance(outcome, DomainError) and outcome.code in NOT_TO_BE_KEPT and _all_read(target, names, read):
                _remove(target, names, note=names[0] + suffix, removed={**note, "removed": REMOVED})
        finally:
            os.close(target)
        filed = {path.name for path in paths}
        for stale in dict.fromkeys(note for note in notes if is_note(note.name) and noted_item(note.name) in filed):
            if drop_status(stale) is not None:
                stale.unlink()
    except OSError as exc:
        # Raised without the names, which are the operator's (`agent-7-cust-123.wav`): the job logs what it catches.
        raise OSError(exc.errno, f"{exc.strerror} (filing under {folder}/)") from None


def _remove(folder: int, names: list[str], *, note: str, removed: dict[str, object]) -> None:
    """Remove the files `names` from `folder` and say so in their `note`: the note saying it is written first, under
    a name of its own, and replaces the note only once every file is gone. A note removed before its replacement was
    written (a full disk, a kill) left no trace of the drop; one replaced before a file that could not be removed
    said removed of a file kept."""
    replacement = note + "~"  # not hidden, not a note: one a kill leaves is purged with the rest of failed/
    _write_note(folder, replacement, removed)
    try:
        for name in names:
            os.unlink(name, dir_fd=folder)
    except OSError:
        os.unlink(replacement, dir_fd=folder)
        raise
    os.replace(replacement, note, src_dir_fd=folder, dst_dir_fd=folder)


def _all_read(folder: int, names: list[str], read: Collection[FileIdentity]) -> bool:
    """Whether each of `names` in `folder` is a file the import read."""
    return all(file_identity(os.stat(name, dir_fd=folder, follow_symlinks=False)) in read for name in names)


def _open_folder(root: Path, folder: str) -> int:
    """`folder` in the inbox `root`, made if it is not there, opened without following a symbolic link: whoever may
    write to the inbox put `done` → elsewhere in its place, and the importer filed the calls, and wrote its notes,
    wherever that pointed (while the job warned that nothing could be filed there). Each name in it is then written
    relative to that folder alone, never through its path again."""
    with contextlib.suppress(FileExistsError):  # a link or a file in its place fails to open below
        os.mkdir(root / folder)
    try:
        return os.open(root / folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # said as the job's warning says it, not "Too many levels of symbolic links"
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)) from None
        raise


def _write_note(folder: int, name: str, note: dict[str, object]) -> None:
    """The note as a new file `name` in `folder`: never through a link or over a file another writer put under that
    name since `_free_names` found it free (written through one, a note could replace any file the jobs process may
    write)."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=folder)
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps(_readable(note), indent=2) + "\n")


def _readable(value: object) -> object:
    """The note's text with each byte of a file name that is not UTF-8 written as an escape: a Latin-1 `päivä.wav`
    from an SMB share reads `p\\xe4iv\\xe4.wav`. Python holds those bytes as lone surrogates, which a note showed as
    `\\udce4`, unreadable to the operator and refused by strict JSON parsers."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_readable(item) for item in value]
    return value


def _move_together(paths: list[Path], names: list[str], *, target: int, note: str) -> None:
    """Move each of `paths` to its name in the folder `target`, or, when one cannot be moved (its name taken
    meanwhile, a file the jobs process may not move), those moved back and the `note` removed: the item stays whole
    in the inbox for the next run. Left half-filed, an imported call's sidecar stayed alone in the inbox, to be filed
    a day later as a sidecar whose audio never arrived, and done/ held the audio without the metadata it came with."""
    moved: list[tuple[Path, str]] = []
    try:
        for path, name in zip(paths, names, strict=True):
            os.replace(path, name, dst_dir_fd=target)
            moved.append((path, name))
    except OSError:
        for path, name in reversed(moved):
            if os.path.lexists(path):  # the operator dropped a new file under its name meanwhile: never over it
                raise
            os.replace(name, path, src_dir_fd=target)
        os.unlink(note, dir_fd=target)
        raise


def _receipt(result: IngestResult) -> dict[str, object]:
    """What the operator traces a filed drop by: the recording it became, the hash of the audio as dropped, and
    whether the call was stored already, so its sidecar's metadata was not applied: a corrected sidecar dropped again
    with the same audio got the receipt of a fresh import, and the operator took the correction for made."""
    recording = result.recording
    return {
        "recording_id": recording.id,
        "sha256": recording.sha256_at_ingest,
        "filed_at": utcnow().isoformat(timespec="seconds"),
        "already_imported": not result.created,
        # An old call imported late may have days or hours left (the daily sweep deletes it then); a deleted one none.
        "status": recording.status,
        "retain_until": recording.retain_until.isoformat(timespec="seconds") if recording.retain_until else None,
        "metadata_not_applied": list(result.metadata_not_applied),
    }


def _reason(refusal: DomainError) -> dict[str, object]:
    """The refusal as the API answers it: every invalid field of a sidecar, not only the first, so that the operator
    fixes them all before dropping the pair again."""
    reason: dict[str, object] = {"error": refusal.code, "field": refusal.field, "message": refusal.message}
    if isinstance(refusal, Invalid) and refusal.errors:
        reason["errors"] = [
            {"field": each.field, "error": each.code, "message": each.message} for each in refusal.errors
        ]
    if "recording_id" in refusal.values:
        reason["recording_id"] = refusal.values["recording_id"]
    return reason


def _free_names(target: int, names: list[str], suffix: str) -> list[str]:
    """`names` as they are, or each with `~N` after the first one's stem (`a.wav`, `a.wav.json` → `a~1.wav`,
    `a~1.wav.json`) where `target` (a folder) holds one of them or the first's note (`<name><suffix>`): an operator's
    names repeat (`call1.wav` every day), and a replace overwrote the earlier drop, in `failed/` a call never imported.
    Also where the note's name would be longer than the file system allows (a sidecar's name may be, and the note's is
    longer than the audio's): then, as wherever a name with `~N` would be, the stem is cut short to make room.
    Each name keeps its own stem, the first's but perhaps in another Unicode form, so that names differing only so
    (two sidecars filed together) stay apart. A note filed alone is numbered as its item (`a~1.wav.error.json`),
    not as `a.wav.error~1.json`, which would pass for a sidecar."""
    limit = os.fpathconf(target, "PC_NAME_MAX")
    first = Path(noted_item(names[0]) if is_note(names[0]) else names[0])
    parts = first.name.removesuffix(first.suffix).count(".") + 1  # a dot is the same in every Unicode form
    stems = [".".join(name.split(".")[:parts]) for name in names]
    ends = [name[len(stem) :] for name, stem in zip(names, stems, strict=True)]

    def numbered(n: int) -> list[str]:
        # Cut to no room at all, a name still too long fails to move, and the job logs it for the operator.
        room = limit - max(len(os.fsencode(f"~{n}{end}")) for end in [*ends, ends[0] + suffix])
        return [f"{_cut(stem, room)}~{n}{end}" for stem, end in zip(stems, ends, strict=True)]

    as_dropped = [names] if len(os.fsencode(names[0] + suffix)) <= limit else []
    candidates = itertools.chain(as_dropped, map(numbered, itertools.count(1)))
    return next(filed for filed in candidates if not any(_taken(target, name) for name in [*filed, filed[0] + suffix]))


def _taken(folder: int, name: str) -> bool:
    """Whether `folder` holds an entry named `name`, of any kind (as `os.path.lexists`: a name too long is free)."""
    try:
        os.lstat(name, dir_fd=folder)
    except OSError:
        return False
    return True


def _cut(text: str, size: int) -> str:
    """`text` less as many characters at its end as make it longer than `size` bytes as a file name."""
    while text and len(os.fsencode(text)) > size:
        text = text[:-1]
    return text
