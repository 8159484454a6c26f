"""The chosen calls of the call list as CSV: metadata, latest score, evaluator and tags, never transcript text.

Every call exported is audited (`recording.list_exported`); cells a spreadsheet would run as a formula
are quoted with a leading apostrophe (CSV injection). The text begins with a byte order mark: without it Excel
reads UTF-8 CSV in the system's legacy code page, and "Käyttöönotto" shows as "KÃ¤yttÃ¶Ã¶notto". Its separators are
the reader's spreadsheet's (`SpreadsheetDialect`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.calls.search import latest_evaluations
from recordings_service.calls.tags import tags_of
from recordings_service.permissions import Permission, allowed
from recordings_service.recordings import visible_calls
from recordings_service.spreadsheets import BYTE_ORDER_MARK, COMMAS, SpreadsheetDialect, spreadsheet_safe

COLUMNS = (
    "id",
    "source",
    "external_call_id",
    "started_at",
    "duration_s",
    "direction",
    "queue",
    "agent_ref",
    "language",
    "status",
    "score",
    "evaluator",
    "tags",
)


def export_calls_csv(
    session: Session, *, actor: Actor, recording_ids: Sequence[str], dialect: SpreadsheetDialect = COMMAS
) -> str:
    """The chosen calls (all visible to `actor`) as CSV text in `dialect`, byte order mark first; agents only for
    those who may see them."""
    calls = visible_calls(session, actor=actor, recording_ids=recording_ids, refused_action="recording.access_denied")
    ids = [call.id for call in calls]
    knows_agents = allowed(role=actor.role, permission=Permission.AGENT_READ)
    latest = latest_evaluations(session, ids)
    tags = tags_of(session, ids)
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer, delimiter=dialect.delimiter)
    writer.writerow(COLUMNS)
    for call in calls:
        score, evaluator = latest.get(call.id, (None, ""))
        writer.writerow(
            [
                spreadsheet_safe(value)
                for value in (
                    call.id,
                    call.source,
                    call.external_call_id,
                    call.started_at.isoformat(),
                    dialect.number(call.duration_s),
                    call.direction,
                    call.queue,
                    call.agent_ref if knows_agents else "",
                    call.language,
                    call.status,
                    "" if score is None else dialect.number(score),
                    evaluator,
                    "; ".join(tags.get(call.id, [])),
                )
            ]
        )
        record_event(
            session,
            actor=actor,
            action="recording.list_exported",
            object_type="recording",
            object_id=call.id,
            details={"format": "csv", "calls": len(calls)},
        )
    return buffer.getvalue()
