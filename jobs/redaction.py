"""Redacting every stored transcript and everything written for trainers again, a batch to a transaction
(`callvault redaction refresh`): a long run keeps what it has done, and holds each row's lock for one batch only.
Card data the new redaction finds in a stored transcript is secured as a transcription's is (`card_data`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from jobs.card_data import delete_replaced, secure_call
from recordings_service.audit import Actor
from recordings_service.models import Transcript
from recordings_service.research.build_queue import requeue_redacted_again
from recordings_service.runtime import Runtime
from recordings_service.training.text_refresh import WRITTEN_TEXTS, refresh_written, written_after
from recordings_service.transcription.redaction_refresh import refresh_transcript, transcripts_after

BATCH = 50


@dataclass(frozen=True)
class RefreshReport:
    checked: int
    changed: int  # twins that came out different (rewritten unless `dry_run`)
    dry_run: bool
    texts_checked: int = 0  # notes, titles, tags and descriptions written for trainers, a row each
    texts_changed: int = 0
    research_rebuilt: int = 0  # research batches whose package is built again with the new text
    research_held: int = 0  # downloaded research batches that hold the old text (named on their trail)
    originals_muted: int = 0  # calls whose original was replaced by a copy muted over newly found card data


def refresh_redactions(
    runtime: Runtime,
    *,
    actor: Actor,
    customer_number_pattern: str | None,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Callable[[str, int, int], None] | None = None,
) -> RefreshReport:
    """Redact every stored transcript and every text written for trainers again, and rewrite each that differs;
    `progress(what, checked, changed)` after each batch, `what` being "transcripts" or "texts"."""

    def report(what: str, before: tuple[int, int] = (0, 0)) -> Callable[[int, int], None]:
        def counted(checked: int, changed: int) -> None:
            if progress is not None:
                progress(what, before[0] + checked, before[1] + changed)

        return counted

    rebuilt: set[str] = set()
    held: set[str] = set()
    replaced: dict[str, str] = {}  # recording id: its replaced original's key, deleted once its batch committed
    muted = 0

    def transcript_again(session: Session, transcript: Transcript) -> bool:
        refreshed = refresh_transcript(
            session, transcript, actor=actor, customer_number_pattern=customer_number_pattern, dry_run=dry_run
        )
        if refreshed.changed and not dry_run:
            research = requeue_redacted_again(session, actor=actor, recording_id=transcript.recording_id)
            rebuilt.update(research.rebuilt)
            held.update(research.held)
            # Card data the earlier redaction missed is muted too where that call's original was muted before.
            key = secure_call(
                session,
                runtime,
                recording_id=transcript.recording_id,
                actor=actor,
                again=refreshed.card_data_changed,
            )
            if key is not None:
                replaced[transcript.recording_id] = key
        return refreshed.changed

    def committed() -> None:
        nonlocal muted
        for recording_id, key in replaced.items():
            delete_replaced(runtime, key=key, recording_id=recording_id)
        muted += len(replaced)
        replaced.clear()

    checked, changed = _in_batches(
        runtime, partial(transcripts_after, limit=batch), transcript_again, report("transcripts"), committed
    )
    texts = (0, 0)
    for kind in WRITTEN_TEXTS:
        text_again = partial(
            refresh_written, kind=kind, actor=actor, customer_number_pattern=customer_number_pattern, dry_run=dry_run
        )
        kind_checked, kind_changed = _in_batches(
            runtime, partial(written_after, kind=kind, limit=batch), text_again, report("texts", texts)
        )
        texts = (texts[0] + kind_checked, texts[1] + kind_changed)
    return RefreshReport(
        checked=checked,
        changed=changed,
        dry_run=dry_run,
        texts_checked=texts[0],
        texts_changed=texts[1],
        research_rebuilt=len(rebuilt),
        research_held=len(held),
        originals_muted=muted,
    )


def _in_batches(
    runtime: Runtime,
    batch_after: Callable[..., list[Any]],
    refresh: Callable[[Session, Any], bool],
    progress: Callable[[int, int], None],
    committed: Callable[[], None] = lambda: None,
) -> tuple[int, int]:
    """Refresh each row `batch_after` gives, a batch to a transaction (`committed` after each commit); how many were
    checked and changed."""
    checked = changed = 0
    after = ""
    while True:
        with runtime.sessions() as session:
            rows = batch_after(session, after=after)
            if not rows:
                break
            for row in rows:
                checked += 1
                changed += refresh(session, row)
            after = rows[-1].id
            session.commit()
        committed()
        progress(checked, changed)
    return checked, changed
