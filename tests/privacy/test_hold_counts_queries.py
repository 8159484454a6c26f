"""The holds page counts what every hold on it covers, and names its customers, in a fixed number of queries,
not one query per hold.

Found by review: `covered_counts` ran a count per hold, so a page of 50 holds cost 50 queries, and each customer
hold's ref was loaded by a query of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from recordings_service.models import LegalHold, Recording
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, aged_call, customer

LONG_AGO = datetime.now(UTC) - timedelta(days=800)
Result = TypeVar("Result")


def statements_of(session: Session, work: Callable[[], Result]) -> tuple[Result, int]:
    """What `work` answers, and how many SQL statements it took."""
    session.flush()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        answer = work()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    return answer, len(statements)


def counted(session: Session, page: Sequence[LegalHold]) -> tuple[dict[str, int], int]:
    """The page's counts, and how many SQL statements computing them took."""
    return statements_of(session, lambda: holds.covered_counts(session, page))


def mixed_holds(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> dict[str, LegalHold]:
    """Ten holds of every kind the page lists, by what they stand for."""

    def call(customer_id: str | None = None) -> Recording:
        return aged_call(
            session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=customer_id, derived=False
        )

    def place(reason: str, *, recording: Recording | None = None, ref: str | None = None) -> LegalHold:
        recording_id = recording.id if recording is not None else None
        return holds.place_hold(session, actor=OFFICER, reason=reason, recording_id=recording_id, customer_ref=ref).hold

    disputed, settled, silent, gone = (customer(session) for _ in range(4))
    disputed_calls = [call(disputed.id) for _ in range(3)]
    call(settled.id)
    gone_call = call(gone.id)
    lone, erased, freed = call(), call(), call()
    placed = {
        "one call": place("one call", recording=lone),
        "customer": place("customer", ref=disputed.customer_ref),
        "customer again": place("customer again", ref=disputed.customer_ref),
        "call of a held customer": place("call of a held customer", recording=disputed_calls[0]),
        "released customer": place("released customer", ref=settled.customer_ref),
        "customer without calls": place("customer without calls", ref=silent.customer_ref),
        "customer whose calls are deleted": place("customer whose calls are deleted", ref=gone.customer_ref),
        "deleted call": place("deleted call", recording=erased),
        "released call": place("released call", recording=freed),
        "the same call again": place("the same call again", recording=lone),
    }
    for hold in (placed["released customer"], placed["released call"]):
        holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="settled")
    for deleted in (disputed_calls[2], gone_call, erased):
        deleted.status = RecordingStatus.DELETED
    session.flush()
    return placed


def test_the_page_costs_the_same_queries_for_two_holds_as_for_ten(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    placed = mixed_holds(session, bucket, envelope)
    page = list(placed.values())
    assert len(page) == 10

    _, for_two = counted(session, [placed["one call"], placed["customer"]])
    _, for_ten = counted(session, page)
    assert for_two == for_ten <= 2


def test_each_hold_counts_the_live_calls_it_keeps(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> None:
    placed = mixed_holds(session, bucket, envelope)

    counts, _ = counted(session, list(placed.values()))
    by_reason = {reason: counts[hold.id] for reason, hold in placed.items()}
    assert by_reason == {
        "one call": 1,
        "customer": 2,  # three calls, one deleted
        "customer again": 2,
        "call of a held customer": 1,
        "released customer": 0,  # a released hold keeps nothing, though the customer's call is live
        "customer without calls": 0,
        "customer whose calls are deleted": 0,
        "deleted call": 0,
        "released call": 0,
        "the same call again": 1,
    }
    # A page of released holds only, or of none, costs nothing.
    assert counted(session, [placed["released call"], placed["released customer"]]) == (
        {placed["released call"].id: 0, placed["released customer"].id: 0},
        0,
    )
    assert counted(session, []) == ({}, 0)


def test_listing_holds_names_their_customers_without_a_query_each(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    placed = mixed_holds(session, bucket, envelope)
    session.expunge_all()  # as a request finds them: nothing loaded yet

    def listed_with_refs() -> list[str | None]:
        return [hold.customer_ref for hold in holds.list_holds(session)]

    refs, statements = statements_of(session, listed_with_refs)
    assert len(refs) == len(placed)
    assert sum(ref is not None for ref in refs) == 5  # the customer holds
    assert statements <= 2  # the holds, and their customers at once
