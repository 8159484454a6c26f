"""The objection ledger: each objection recorded (GDPR Art. 21: to research, to marketing, or taken back) is also
written to the object store, so that a database restored from a backup taken before it honours it again.

Restored without it, a customer who objected to research after the backup was selectable for research batches
again. The entry is written once the objection has committed (`fulfilment.after_commit`): a store that refuses it
loses that entry only (logged), never an objection the database holds. It names the customer by id and the flags
as they then stood (nothing personal); `replay` sets each customer the ledger names to their newest entry.
"""

from __future__ import annotations

import io
import json
from datetime import datetime

from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import new_id
from recordings_service.models import Customer
from recordings_service.storage.object_store import ObjectStore

PREFIX = "ledger/objections/"


def record_objection(store: ObjectStore, customer: Customer, *, at: datetime) -> None:
    """Put the customer's objections as they stand now in the ledger."""
    entry = {
        "customer_id": customer.id,
        "research": customer.objects_to_research,
        "marketing": customer.objects_to_marketing,
        "at": at.isoformat(),
    }
    # A new id sorts after every earlier entry: the ledger lists in the order it was written.
    store.put(f"{PREFIX}{new_id()}.json", io.BytesIO(json.dumps(entry, separators=(",", ":")).encode()))


def replay(session: Session, store: ObjectStore, *, actor: Actor) -> int:
    """After a restore: set each customer the ledger names, and this database holds, to their newest entry, in the
    caller's transaction; audited `customer.objection_replayed`. Returns how many customers changed."""
    newest: dict[str, dict[str, object]] = {}
    for info in store.list(PREFIX):  # in key order: the order written
        with store.get(info.key) as body:
            entry = json.load(body)
        newest[entry["customer_id"]] = entry
    changed = 0
    for customer_id, entry in sorted(newest.items()):
        customer = session.get(Customer, customer_id)
        flags = (bool(entry["research"]), bool(entry["marketing"]))
        if customer is None or (customer.objects_to_research, customer.objects_to_marketing) == flags:
            continue
        customer.objects_to_research, customer.objects_to_marketing = flags
        record_event(
            session,
            actor=actor,
            action="customer.objection_replayed",
            object_type="customer",
            object_id=customer.id,
            details={"objects_to_research": flags[0], "objects_to_marketing": flags[1], "recorded_at": entry["at"]},
        )
        changed += 1
    session.flush()
    return changed
