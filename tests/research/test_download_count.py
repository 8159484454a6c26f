"""A batch's `downloads` counts completed downloads of the whole package, whatever the ranges that carried it.

Found by review: it rose when an answer from byte 0 began, so a download broken off after a few bytes stood in
the custody record as a package taken. Now the bytes that went out since the last download counted must hold the
whole package (`portal.completes_package`): an answer that reached the end from byte 0, a broken one resumed to the
end (once), or ranges that together cover it; the batch's page says when only part of it went out."""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.models import ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.research import portal
from recordings_service.research.lifecycle import DOWNLOAD_STARTED, DOWNLOADED, PACKAGE_BUILT
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.research import as_ready, downloaded, draft, institute, partner

SIZE = 10_000
CHUNK = 4_096
NEVER_WHOLE = "a download began but the whole package never went out: the institute may hold part of it"
PARTS = "parts of the package were downloaded (byte ranges, not from its start)"


def _ready(session: Session, runtime: Runtime, officer: User) -> tuple[ResearchBatch, Actor]:
    made = as_ready(draft(session, runtime, officer, institute(session).id), size=SIZE)
    reader = partner(session, made.institute_id)
    return made, Actor(id=reader.id, name=reader.username, role=Role.RESEARCH_PARTNER, ip="192.0.2.7")


def _answer(session: Session, actor: Actor, batch: ResearchBatch, *, start: int, sent: int, in_flight: int = 0) -> None:
    """An answer for the package from byte `start` to its end, of which `sent` bytes went out."""
    started = portal.record_download_started(session, actor=actor, batch=batch, start=start, stop=SIZE)
    portal.record_download(
        session,
        actor=actor,
        batch_id=batch.id,
        started=started,
        start=start,
        requested=SIZE - start,
        sent=sent,
        in_flight=in_flight,
    )
    session.flush()


def _counts(session: Session, batch: ResearchBatch) -> tuple[int, datetime | None]:
    session.refresh(batch)
    return batch.downloads, batch.last_download_at


def test_a_download_broken_off_counts_only_once_resumed_to_the_end(
    officer_client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    batch, actor = _ready(session, runtime, officer)
    url = f"/research/batches/{batch.id}"

    _answer(session, actor, batch, start=0, sent=10, in_flight=CHUNK)  # the connection dropped after a few bytes
    session.commit()

    assert _counts(session, batch) == (0, None)
    page = officer_client.get(url).get_data(as_text=True)
    assert '<dd class="downloads">0' in page and NEVER_WHOLE in page and PARTS not in page

    # The client resumes from what it received: into the chunk that was being written when the connection broke.
    _answer(session, actor, batch, start=1_000, sent=SIZE - 1_000)
    session.commit()

    downloads, last = _counts(session, batch)
    assert downloads == 1 and last is not None
    assert [event.details["counted"] for event in events(session, DOWNLOADED, batch.id)] == [False, True]
    page = officer_client.get(url).get_data(as_text=True)
    assert '<dd class="downloads">1' in page and NEVER_WHOLE not in page
    shown = officer_client.get(f"/api/v1/research/batches/{batch.id}").get_json()
    assert shown["downloads"] == 1 and [row["counted"] for row in shown["download_history"]] == [False, True]

    _answer(session, actor, batch, start=5_000, sent=SIZE - 5_000)  # more of a package already counted
    _answer(session, actor, batch, start=0, sent=SIZE)  # a whole one again
    assert _counts(session, batch)[0] == 2


def test_a_resume_past_the_bytes_that_went_out_leaves_a_gap_and_counts_nothing(
    session: Session, runtime: Runtime, officer: User
) -> None:
    batch, actor = _ready(session, runtime, officer)

    _answer(session, actor, batch, start=0, sent=CHUNK)  # ended between chunks: nothing was in flight
    _answer(session, actor, batch, start=CHUNK + 1, sent=SIZE - CHUNK - 1)

    assert _counts(session, batch) == (0, None)


def test_ranges_that_together_hold_the_package_count_once(session: Session, runtime: Runtime, officer: User) -> None:
    batch, _ = _ready(session, runtime, officer)

    downloaded(session, batch, start=SIZE - 100, stop=SIZE)  # a ZIP reader: the directory at the end first
    downloaded(session, batch, start=0, stop=6_000)
    assert _counts(session, batch)[0] == 0
    downloaded(session, batch, start=5_000, stop=SIZE - 100)
    assert _counts(session, batch)[0] == 1
    downloaded(session, batch, start=0, stop=SIZE - 1)
    assert _counts(session, batch)[0] == 1


def test_bytes_of_a_package_built_before_do_not_add_up_to_the_new_one(
    session: Session, runtime: Runtime, officer: User
) -> None:
    batch, actor = _ready(session, runtime, officer)
    downloaded(session, batch, start=0, stop=SIZE // 2)
    record_event(session, actor=actor, action=PACKAGE_BUILT, object_type="research_batch", object_id=batch.id)

    downloaded(session, batch, start=SIZE // 2, stop=SIZE)

    assert _counts(session, batch)[0] == 0


def test_a_download_counted_when_it_began_is_not_counted_again(
    session: Session, runtime: Runtime, officer: User
) -> None:
    """Answers recorded before the rule (no `counted`) were counted when they began from byte 0."""
    batch, actor = _ready(session, runtime, officer)
    batch.downloads = 1
    for action, details in (
        (DOWNLOAD_STARTED, {"start": 0, "requested": SIZE}),
        (DOWNLOADED, {"start": 0, "requested": SIZE, "bytes": SIZE // 2, "complete": False}),
    ):
        record_event(
            session, actor=actor, action=action, object_type="research_batch", object_id=batch.id, details=details
        )

    _answer(session, actor, batch, start=SIZE // 2, sent=SIZE - SIZE // 2)

    assert _counts(session, batch)[0] == 1
