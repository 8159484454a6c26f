"""A call sent again: what its metadata says that the stored call does not.

Ingest is idempotent on (source, external_call_id): the same call sent again with the same audio is the stored call,
answered 200, and nothing of the new metadata is applied (the call's record is evidence; corrections go through a
rectification, which is audited). The sender is told which fields it sent differently, rather than left to believe
a corrected queue or customer took effect."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recordings_service.models import Recording

if TYPE_CHECKING:
    from recordings_service.calls.ingest import IngestMetadata

# The metadata the call's row keeps as it was sent (`customer_ref` through its customer); `purposes` is compared only
# when sent, as a set (left out, they come from the queue's defaults).
_KEPT_AS_SENT = {
    "started_at",
    "direction",
    "queue",
    "agent_ref",
    "customer_ref",
    "language",
    "agent_channel",
    "notice_given",
    "agreement_made",
}


def metadata_not_applied(stored: Recording, sent: IngestMetadata) -> list[str]:
    """The fields of `sent` that say otherwise than the stored call, in the metadata's order."""
    purposes = None if sent.purposes is None else sorted(purpose.value for purpose in sent.purposes)
    return [
        name
        for name in type(sent).model_fields
        if (name in _KEPT_AS_SENT and getattr(sent, name) != getattr(stored, name))
        or (name == "purposes" and purposes is not None and purposes != sorted(stored.purposes))
    ]
