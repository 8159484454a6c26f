"""The partner's batch page reads the batch's confirmations once, and decides what it offers by the same rule.

Found by review: the page read the confirmations for its history, then `confirmation_blocker` and
`download_blocker` each read them again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from recordings_service.models import CustodyConfirmation, ResearchBatch, User
from recordings_service.models.research import BatchState
from recordings_service.research import confirmations
from recordings_service.research.confirmations import ConfirmationBlocker
from recordings_service.runtime import Runtime
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of


def confirmation(session: Session, batch: ResearchBatch) -> CustodyConfirmation:
    row = CustodyConfirmation(
        batch_id=batch.id, method="destroyed", confirmed_on=date.today(), signer="A. Lab", title="Head", statement="x"
    )
    session.add(row)
    session.flush()
    return row


def test_the_batch_page_reads_the_confirmations_once(
    app: Flask, connection: Connection, session: Session, runtime: Runtime, officer: User
) -> None:
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab))
    downloaded(session, made)
    confirmation(session, made)
    session.commit()  # ready and inside its window: the confirmation and the download rules both ask
    client = client_of(app, partner(session, lab))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        page = client.get(f"/partner/batches/{made.id}").get_data(as_text=True)
    finally:
        event.remove(connection, "before_cursor_execute", seen)

    assert "Your confirmation of" in page and 'name="confirmed_on"' not in page
    assert sum("FROM research_confirmations" in statement for statement in statements) == 1


def test_the_history_given_decides_as_the_one_read(session: Session, runtime: Runtime, officer: User) -> None:
    lab = institute(session).id
    made = draft(session, runtime, officer, lab)

    def both() -> tuple[ConfirmationBlocker | None, ConfirmationBlocker | None]:
        history = confirmations.confirmations_of(session, made.id)
        return (
            confirmations.confirmation_blocker(session, made),
            confirmations.confirmation_blocker(session, made, history=history),
        )

    assert both() == (ConfirmationBlocker.NO_PACKAGE,) * 2
    as_ready(made)
    assert both() == (ConfirmationBlocker.NOT_DOWNLOADED,) * 2
    downloaded(session, made)
    assert both() == (None, None)
    pending = confirmation(session, made)
    assert both() == (ConfirmationBlocker.PENDING,) * 2
    pending.decision = confirmations.REJECTED
    assert both() == (None, None)
    made.state = BatchState.CLOSED
    assert both() == (ConfirmationBlocker.NO_PACKAGE,) * 2
