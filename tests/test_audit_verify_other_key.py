"""`callvault audit verify` run with another `CALLVAULT_AUDIT_KEY` than the trail's (a typo, another machine's
secrets) found the trail signed with a key it does not hold, said so, and still appended its own `audit.verified`
event signed with the wrong key: from then on a verify with the right key found the trail broken at that event, for
good. It now writes nothing when it holds another key than the trail's."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace

from click.testing import Result
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from recordings_service.audit import record_event
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM
from tests.factories.audit import newest_seq


def test_a_verify_with_another_key_reports_the_break_and_writes_nothing(
    signed: Runtime, connection: Connection, verify: Callable[[Runtime], Result]
) -> None:
    with signed.sessions() as session:
        record_event(session, actor=SYSTEM, action="recording.viewed", object_type="recording", object_id="r1")
        session.commit()
        before = newest_seq(session)
    # Sessions of its own: a runtime sets its keys on its sessionmaker, which `signed` would otherwise share.
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    other = replace(signed, settings=replace(signed.settings, audit_key=secrets.token_urlsafe(32)), sessions=sessions)

    wrong = verify(other)

    assert wrong.exit_code == 1 and "which is not configured" in wrong.stderr
    with signed.sessions() as session:
        assert newest_seq(session) == before
    right = verify(signed)
    assert right.exit_code == 0 and right.stdout.startswith("intact ("), right.output
