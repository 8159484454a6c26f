"""Overdue custody with a frozen clock: a batch whose study ended more than the grace period ago without an
accepted confirmation becomes overdue, and its institute's contact gets a reminder at a real local SMTP
server (aiosmtpd on loopback), repeated weekly, each audited."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.custody import remind_overdue
from recordings_service.audit import Actor
from recordings_service.models import AuditEvent, CustodyConfirmation, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.research import lifecycle
from recordings_service.research.batches import BatchRequest, approve_batch, create_batch
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.research import downloaded, institute, research_call


class Inbox:
    """An SMTP handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with serving(smtputf8=True) as served:
        yield served


@pytest.fixture
def plain_inbox() -> Iterator[tuple[Inbox, int]]:
    """A server without the SMTPUTF8 extension, as many are."""
    with serving(smtputf8=False) as served:
        yield served


@contextmanager
def serving(*, smtputf8: bool) -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def approved_batch(session: Session, runtime: Runtime) -> ResearchBatch:
    """An approved batch its partner has downloaded from (one never downloaded owes no confirmation)."""
    creator, approver = (make_user(session, role=Role.COMPLIANCE) for _ in range(2))
    lab = institute(session)
    lab.contact = "custody@lab.example.fi"
    research_call(session, runtime.store, runtime.envelope)
    now = datetime.now(UTC)
    batch = create_batch(
        session,
        runtime.envelope,
        actor=Actor(id=creator.id, name=creator.username, role=Role.COMPLIANCE),
        request=BatchRequest(
            study="Billing study",
            purpose="explaining estimated bills",
            institute_id=lab.id,
            criteria=BatchCriteria.model_validate(
                {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 5, "seed": 1}
            ),
            study_end=(now + timedelta(days=30)).date(),
            access_start=now,
            access_end=now + timedelta(days=3),
        ),
    ).made
    approve_batch(session, actor=Actor(id=approver.id, name=approver.username, role=Role.COMPLIANCE), batch_id=batch.id)
    downloaded(session, batch)
    session.commit()
    return batch


def test_overdue_batch_reminded_weekly(session: Session, runtime: Runtime, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    settings = replace(runtime.settings, smtp_url=f"smtp://127.0.0.1:{port}", research_grace_days=14)
    batch = approved_batch(session, runtime)
    study_end = datetime.combine(batch.study_end, time(), tzinfo=UTC)

    within_grace = remind_overdue(runtime, settings=settings, now=study_end + timedelta(days=14, hours=23))
    assert within_grace["overdue"] == 0 and handler.messages == []

    first = remind_overdue(runtime, settings=settings, now=study_end + timedelta(days=15, hours=1))
    assert (first["overdue"], first["reminded"]) == (1, 1)
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).state == "overdue"
    [envelope] = handler.messages
    assert envelope.rcpt_tos == ["custody@lab.example.fi"]
    message = message_from_bytes(envelope.content)
    assert batch.id in message["Subject"]
    assert f"/partner/batches/{batch.id}" in message.get_payload()

    next_day = remind_overdue(runtime, settings=settings, now=study_end + timedelta(days=16))
    assert next_day["reminded"] == 0 and len(handler.messages) == 1
    a_week_on = remind_overdue(runtime, settings=settings, now=study_end + timedelta(days=22, hours=2))
    assert a_week_on["reminded"] == 1 and len(handler.messages) == 2
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == batch.id, AuditEvent.action == "research.reminder_sent")
    ).all()
    assert [event.details["delivered"] for event in events] == [True, True]


def test_a_contact_at_a_unicode_domain_is_reminded_through_a_server_without_smtputf8(
    session: Session, runtime: Runtime, plain_inbox: tuple[Inbox, int]
) -> None:
    """Found by exploratory testing: an institute whose contact's domain has a letter outside ASCII (`ö`) was never
    reminded by a server without SMTPUTF8: it refused each message, and the next run tried again in vain."""
    handler, port = plain_inbox
    settings = replace(runtime.settings, smtp_url=f"smtp://127.0.0.1:{port}", research_grace_days=14)
    batch = approved_batch(session, runtime)
    batch.institute.contact = "custody@yliopistö.example.fi"
    session.commit()
    late = datetime.combine(batch.study_end, time(), tzinfo=UTC) + timedelta(days=30)

    assert remind_overdue(runtime, settings=settings, now=late)["reminded"] == 1

    [envelope] = handler.messages
    assert envelope.rcpt_tos == ["custody@xn--yliopist-u4a.example.fi"]


def test_reminder_logged_without_smtp(session: Session, runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    settings = replace(runtime.settings, smtp_url="")
    batch = approved_batch(session, runtime)
    late = datetime.combine(batch.study_end, time(), tzinfo=UTC) + timedelta(days=30)
    assert remind_overdue(runtime, settings=settings, now=late)["logged"] == 1
    assert "CALLVAULT_SMTP_URL" in caplog.text and "lab.example" not in caplog.text
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).reminders_sent == 1


def test_unreachable_smtp_retries_next_run(session: Session, runtime: Runtime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = replace(runtime.settings, smtp_url=f"smtp://127.0.0.1:{closed_port}")
    batch = approved_batch(session, runtime)
    late = datetime.combine(batch.study_end, time(), tzinfo=UTC) + timedelta(days=30)
    assert remind_overdue(runtime, settings=settings, now=late)["failed"] == 1
    session.expire_all()
    shown = session.get_one(ResearchBatch, batch.id)
    assert (shown.state, shown.reminders_sent) == ("overdue", 0)  # not counted as sent: the next run tries again


def test_no_reminder_while_the_institutes_confirmation_waits_for_compliance(
    session: Session, runtime: Runtime, inbox: tuple[Inbox, int]
) -> None:
    """The institute was told weekly that the return or destruction 'has not been confirmed yet' while its
    confirmation sat in compliance's queue, and the portal refused a second one."""
    handler, port = inbox
    settings = replace(runtime.settings, smtp_url=f"smtp://127.0.0.1:{port}", research_grace_days=14)
    batch = approved_batch(session, runtime)
    study_end = datetime.combine(batch.study_end, time(), tzinfo=UTC)
    confirmation = CustodyConfirmation(
        batch_id=batch.id, method="destroyed", confirmed_on=batch.study_end, signer="A", title="B", statement="C"
    )
    session.add(confirmation)
    session.commit()

    late = remind_overdue(runtime, settings=settings, now=study_end + timedelta(days=15, hours=1))

    assert (late["overdue"], late["reminded"], handler.messages) == (1, 0, [])
    confirmation.decision = "rejected"  # sent back: the institute owes one again
    session.commit()
    assert remind_overdue(runtime, settings=settings, now=study_end + timedelta(days=16))["reminded"] == 1


def test_a_reminder_found_due_is_not_sent_once_another_process_sent_it_or_the_institute_confirmed(
    session: Session, runtime: Runtime, inbox: tuple[Inbox, int]
) -> None:
    """Two jobs processes read the same batches due, and each e-mailed the institute; a confirmation that arrived
    after the list was read was answered with a reminder that it had not been confirmed."""
    handler, port = inbox
    settings = replace(runtime.settings, smtp_url=f"smtp://127.0.0.1:{port}", research_grace_days=14)
    first, second = approved_batch(session, runtime), approved_batch(session, runtime)
    late = datetime.combine(first.study_end, time(), tzinfo=UTC) + timedelta(days=15, hours=1)
    lifecycle.mark_overdue(session, now=late, grace_days=14)
    session.commit()
    read_by_the_other_process = lifecycle.reminders_due(session, now=late)
    assert sorted(read_by_the_other_process) == sorted([first.id, second.id])

    assert lifecycle.remind(session, settings, batch_id=first.id, now=late) == "reminded"  # the other process
    session.add(
        CustodyConfirmation(
            batch_id=second.id, method="destroyed", confirmed_on=second.study_end, signer="A", title="B", statement="C"
        )
    )
    session.commit()
    outcomes = [
        lifecycle.remind(session, settings, batch_id=batch_id, now=late) for batch_id in read_by_the_other_process
    ]

    assert outcomes == ["skipped", "skipped"] and len(handler.messages) == 1
    session.commit()
    sent = session.scalars(select(AuditEvent).where(AuditEvent.action == "research.reminder_sent")).all()
    assert [event.object_id for event in sent] == [first.id]


def test_the_weekly_reminder_is_sent_on_the_seventh_daily_run_whatever_its_hour(
    session: Session, runtime: Runtime
) -> None:
    """A jobs process restarted an hour earlier in the day found last week's reminder 6 days 23 hours old and
    waited a day more: reminders came every eight days."""
    settings = replace(runtime.settings, smtp_url="", research_grace_days=14)
    batch = approved_batch(session, runtime)
    study_end = datetime.combine(batch.study_end, time(), tzinfo=UTC)
    first = study_end + timedelta(days=15, hours=10)

    assert remind_overdue(runtime, settings=settings, now=first)["logged"] == 1
    assert remind_overdue(runtime, settings=settings, now=first + timedelta(days=1, hours=-1))["logged"] == 0
    assert remind_overdue(runtime, settings=settings, now=first + timedelta(days=7, hours=-1))["logged"] == 1
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).reminders_sent == 2
