"""Filing the inbox's items: each moved to `done/` beside a receipt naming the recording it became, or to `failed/`
beside a note saying why, under names no earlier drop filed there has, as the calling job holds the inbox's lock."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from recordings_service.calls import inbox_attempts
from recordings_service.calls.inbox import (
    ERROR_SUFFIX,
    ORPHAN_AFTER_S,
    RECEIPT_SUFFIX,
    AmbiguousPair,
    AmbiguousSidecar,
    InboxPair,
    drop_status,
    inbox_dir,
    is_note,
    noted_item,
)
from recordings_service.calls.inbox_names import SIDECAR, is_sidecar
from recordings_service.calls.ingest import IngestResult
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid


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


def settle_stray_note(settings: Settings, note: Path) -> bool:
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
    _file(settings, [note], Invalid(field, message, code="no_partner"))
    return True


def settle_failure(
    settings: Settings,
    paths: list[Path],
    *,
    now: datetime,
    recording_id: str | None = None,
    notes: Sequence[Path] = (),
) -> bool:
    """Count an unexpected failure of the item made of `paths` (holding the inbox), a pair imported as `recording_id`
    that could not be filed; once it has failed so `MAX_ATTEMPTS` times in a row, file it under `failed/`, saying
    where to look (and which recording it became, in any of those runs), and answer True."""
    attempts, recording_id = inbox_attempts.count_failure(
        inbox_dir(settings), paths, now=now, recording_id=recording_id
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
    settings: Settings, pair: InboxPair, outcome: IngestResult | DomainError, *, notes: Sequence[Path] = ()
) -> None:
    """Move the pair to `done/` with a receipt naming the recording it became, or to `failed/` with the reason. An
    imported pair that cannot be moved raises `ImportedNotFiled`, so that giving it up says what it became."""
    try:
        _file(settings, [pair.audio, pair.sidecar], outcome, notes=notes)
    except OSError as exc:
        if isinstance(outcome, IngestResult):
            raise ImportedNotFiled(outcome.recording.id) from exc
        raise


def _file(
    settings: Settings, paths: list[Path], outcome: IngestResult | DomainError, *, notes: Sequence[Path] = ()
) -> None:
    """Move `paths` (an audio file first, then its sidecar) to `failed/` with the refusal beside the first, or to
    `done/` with the receipt beside it, under names that no earlier drop filed there has. The note an earlier filing
    wrote, moved back with the item to retry it, is removed: the retry's outcome stands alone. Its name in another
    letter case (`a.wav.ERROR.JSON`, as `is_note` takes it) is among the `notes` the scan found: left, it was filed
    a day later as a stray note."""
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
        named = [paths[0].with_name(paths[0].name + each) for each in (ERROR_SUFFIX, RECEIPT_SUFFIX)]
        theirs = [note for note in notes if is_note(note.name) and noted_item(note.name) == paths[0].name]
        for stale in dict.fromkeys([*named, *theirs]):
            if drop_status(stale) is not None:
                stale.unlink()
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
    if "recording_id" in refusal.values:
        reason["recording_id"] = refusal.values["recording_id"]
    return reason


def _free_names(target: Path, names: list[str], suffix: str) -> list[str]:
    """`names` as they are, or each with `~N` after the first one's stem (`a.wav`, `a.wav.json` → `a~1.wav`,
    `a~1.wav.json`) where `target` already holds one of them or the first's note (`<name><suffix>`): an operator's
    names repeat (`call1.wav` every day), and a replace overwrote the earlier drop, in `failed/` a call never imported.
    Also where the note's name would be longer than the file system allows (a sidecar's name may be, and the note's is
    longer than the audio's): then, as wherever a name with `~N` would be, the stem is cut short to make room.
    Each name keeps its own stem, the first's but perhaps in another Unicode form, so that names differing only so
    (two sidecars filed together) stay apart. A note filed alone is numbered as its item (`a~1.wav.error.json`),
    not as `a.wav.error~1.json`, which would pass for a sidecar."""
    limit = os.pathconf(target, "PC_NAME_MAX")
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
    return next(
        filed for filed in candidates if not any(os.path.lexists(target / name) for name in [*filed, filed[0] + suffix])
    )


def _cut(text: str, size: int) -> str:
    """`text` less as many characters at its end as make it longer than `size` bytes as a file name."""
    while text and len(os.fsencode(text)) > size:
        text = text[:-1]
    return text
