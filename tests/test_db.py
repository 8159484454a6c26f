"""Transactions behave the same on both backends: savepoints roll back, UTC times stay UTC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recordings_service.models import Customer


def count_customers(engine: Engine, ref: str) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).where(Customer.customer_ref == ref)) or 0


def test_rolled_back_savepoint_discards_its_rows_only(engine: Engine) -> None:
    """Ingest relies on this to undo a lost race; on SQLite pysqlite used to keep the rows."""
    with Session(engine) as session:
        session.add(Customer(customer_ref="kept-1"))
        session.flush()
        nested = session.begin_nested()
        session.add(Customer(customer_ref="undone-1"))
        session.flush()
        nested.rollback()
        session.commit()
    try:
        assert count_customers(engine, "kept-1") == 1
        assert count_customers(engine, "undone-1") == 0
    finally:
        with Session(engine) as session:
            session.execute(Customer.__table__.delete().where(Customer.customer_ref == "kept-1"))
            session.commit()


def test_released_savepoint_commits_only_with_its_transaction(engine: Engine) -> None:
    """Rows written in a savepoint commit together with the rest (ingest's row and its audit event)."""
    with Session(engine) as session:
        with session.begin_nested():
            session.add(Customer(customer_ref="atomic-1"))
        session.rollback()
    assert count_customers(engine, "atomic-1") == 0


def test_commit_inside_an_outer_transaction_is_undone_by_its_rollback(engine: Engine) -> None:
    """The test harness's isolation: a view's commit only releases a savepoint of the test's transaction."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            session.add(Customer(customer_ref="isolated-1"))
            session.commit()
        outer.rollback()
    assert count_customers(engine, "isolated-1") == 0


def test_times_come_back_timezone_aware_utc(session: Session) -> None:
    helsinki = timezone(timedelta(hours=2))
    customer = Customer(customer_ref="tz-1", updated_at=datetime(2026, 1, 5, 12, 0, tzinfo=helsinki))
    session.add(customer)
    session.flush()
    session.expire(customer)
    assert customer.updated_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert customer.updated_at.tzinfo is not None


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(Customer(customer_ref="tz-2", updated_at=datetime(2026, 1, 5, 12, 0)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_a_savepoint_on_sqlite_writes_although_another_process_wrote_since_its_first_read(engine: Engine) -> None:
    """Found by exploratory testing: a trainer's first look at a call made the pseudonym key in a savepoint,
    after the request had read; the jobs process committed in between, and SQLite refused the write at once
    (SQLITE_BUSY_SNAPSHOT: a WAL read snapshot cannot become a write one), a 500. A savepoint's transaction now
    takes the write lock when it opens, so the other writer waits for it instead."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's transactions write after reading whatever others committed")
    refs = ("savepoint-writer-1", "other-writer-1")
    other_wrote = threading.Event()

    def other_writer() -> None:
        with Session(engine) as other:
            other.add(Customer(customer_ref=refs[1]))
            other.commit()
        other_wrote.set()

    try:
        with Session(engine) as session:
            with session.begin_nested():
                session.scalar(select(func.count()).select_from(Customer))  # the read that starts a snapshot
                writer = threading.Thread(target=other_writer)
                writer.start()
                other_wrote.wait(timeout=2)  # it commits now where the savepoint holds no lock, else it waits
                session.add(Customer(customer_ref=refs[0]))
            session.commit()
        writer.join(timeout=60)
        assert [count_customers(engine, ref) for ref in refs] == [1, 1]
    finally:
        with Session(engine) as session:
            session.execute(Customer.__table__.delete().where(Customer.customer_ref.in_(refs)))
            session.commit()


def test_a_locking_read_on_sqlite_waits_for_the_transaction_that_locked_the_row(engine: Engine) -> None:
    """Found by review: on SQLite `with_for_update` locked nothing (the dialect drops FOR UPDATE, and pysqlite begins
    a transaction only at the first write), so two officers approving one draft batch both read it as a draft. A
    locking read now opens the transaction IMMEDIATE: the second waits, then reads what the first committed."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's FOR UPDATE is tested by the race tests of each service")
    ref = "locking-read-1"
    with Session(engine) as setup:
        setup.add(Customer(customer_ref=ref))
        setup.commit()
    locked = select(Customer).where(Customer.customer_ref == ref).with_for_update()
    second_started = threading.Event()
    seen: list[bool] = []

    def second() -> None:
        with Session(engine) as other:
            second_started.set()
            seen.append(other.scalars(locked).one().objects_to_research)
            other.commit()

    try:
        with Session(engine) as first:
            customer = first.scalars(locked).one()
            assert customer.objects_to_research is False
            reader = threading.Thread(target=second)
            reader.start()
            second_started.wait(timeout=10)
            reader.join(timeout=0.5)  # without the lock, the second has read the old value by now
            customer.objects_to_research = True
            first.commit()
        reader.join(timeout=60)
        assert seen == [True]
    finally:
        with Session(engine) as session:
            session.execute(Customer.__table__.delete().where(Customer.customer_ref == ref))
            session.commit()
