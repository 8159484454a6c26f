"""Card data found in a call's transcript (PCI DSS 3.3.1), by its transcription or by redacting the stored
transcripts again: the call flagged, its original replaced by a copy muted over the card spans, and an access package
built before that built again; the replaced original's versions deleted once all that has committed."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import Recording
from recordings_service.privacy.package_queue import build_again
from recordings_service.redaction.pci import secure_card_data
from recordings_service.runtime import Runtime

log = logging.getLogger("jobs.card_data")


def secure_call(
    session: Session, runtime: Runtime, *, recording_id: str, actor: Actor, again: bool = False
) -> str | None:
    """Flag the call and replace its original where its transcript holds card data (`again`: also where an
    original was replaced before, whose muting the transcript's card data has outgrown); the replaced original's
    key, for `delete_replaced` after the caller's commit, or None."""
    replaced = secure_card_data(
        session,
        runtime.store,
        runtime.envelope,
        settings=runtime.settings,
        recording_id=recording_id,
        actor=actor,
        again=again,
    )
    if replaced is not None:
        # An access package built before holds the original as it was: built again from the muted one.
        customer_id = session.get_one(Recording, recording_id).customer_id
        if customer_id is not None:
            build_again(session, actor=actor, customer_id=customer_id, reason="card_data_muted")
    return replaced


def delete_replaced(runtime: Runtime, *, key: str, recording_id: str) -> None:
    """Delete every version of an original replaced under PCI, now that the committed row names its successor."""
    try:
        runtime.store.delete(key)
    except Exception:
        # The transcript and the replacement are committed; reconcile deletes the orphan after its grace period.
        log.warning("replaced original not deleted yet", extra={"recording": recording_id}, exc_info=True)
