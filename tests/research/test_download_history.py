"""Compliance proves custody from the batch itself: every answered request for the package (who, from where, when,
which bytes) is listed on the batch's page and in its API answer, where only a count and the last time were."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.audit import Actor, record_event
from recordings_service.models import ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.research import portal
from recordings_service.research.custody import download_history
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.research import as_ready, draft, institute, partner, research_call

MakeBatch = Callable[..., ResearchBatch]


def test_each_download_and_resume_is_on_the_batch_with_its_account_address_and_bytes(
    client: FlaskClient, officer_client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    reader = partner(session, batch.institute_id)
    _, plain = create_token(session, actor=SYSTEM, user=reader, scope="partner")
    _, officer = create_token(session, actor=SYSTEM, user=make_user(session, role=Role.COMPLIANCE), scope="research")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    url = f"/api/v1/research/batches/{batch.id}/package"
    whole = client.get(url, headers=lab)
    size, tag = len(whole.data), whole.headers["ETag"]
    resumed = client.get(url, headers={**lab, "Range": f"bytes={size // 2}-", "If-Range": tag})
    assert resumed.status_code == 206 and resumed.data  # read to its end: the bytes that went out are recorded

    shown = client.get(f"/api/v1/research/batches/{batch.id}", headers={"Authorization": f"Bearer {officer}"})
    page = officer_client.get(f"/research/batches/{batch.id}").get_data(as_text=True)

    history = shown.get_json()["download_history"]
    assert [(row["user"], row["ip"], row["start"], row["bytes"], row["complete"]) for row in history] == [
        (reader.username, "127.0.0.1", 0, size, True),
        (reader.username, "127.0.0.1", size // 2, size - size // 2, True),
    ]
    assert history[0]["at"] <= history[1]["at"]
    assert "Download history" in page and page.count(f"<td>{reader.username}</td>") == 2


def test_a_download_broken_off_is_shown_as_interrupted_with_the_bytes_that_went_out(
    officer_client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    made = as_ready(draft(session, runtime, officer, institute(session).id), size=10_000)
    reader = partner(session, made.institute_id)
    actor = Actor(id=reader.id, name=reader.username, role=Role.RESEARCH_PARTNER, ip="192.0.2.7")
    started = portal.record_download_started(session, actor=actor, batch=made, start=0, stop=10_000)
    portal.record_download(
        session, actor=actor, batch_id=made.id, started=started, start=0, requested=10_000, sent=4_096
    )
    session.commit()

    page = officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True)

    row = page.split('<table class="download-history">', 1)[1].split("</tbody>", 1)[0]
    assert "4,096 bytes" in row and "interrupted: the connection broke before the rest went out" in row


def test_a_download_whose_process_died_while_sending_is_shown_as_interrupted_with_bytes_unknown(
    client: FlaskClient, officer_client: FlaskClient, session: Session, runtime: Runtime, officer: User
) -> None:
    """Found by review: a download whose worker died mid-stream has its `batch.download_started` only; it counted
    as downloaded, yet the history (read from `batch.downloaded` alone) did not list it."""
    made = as_ready(draft(session, runtime, officer, institute(session).id), size=10_000)
    reader = partner(session, made.institute_id)
    actor = Actor(id=reader.id, name=reader.username, role=Role.RESEARCH_PARTNER, ip="192.0.2.7")
    portal.record_download_started(session, actor=actor, batch=made, start=0, stop=10_000)  # died: no end
    resumed = portal.record_download_started(session, actor=actor, batch=made, start=4_096, stop=10_000)
    portal.record_download(
        session, actor=actor, batch_id=made.id, started=resumed, start=4_096, requested=5_904, sent=5_904
    )
    _, plain = create_token(session, actor=SYSTEM, user=make_user(session, role=Role.COMPLIANCE), scope="research")
    session.commit()

    shown = client.get(f"/api/v1/research/batches/{made.id}", headers={"Authorization": f"Bearer {plain}"})
    page = officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True)

    history = shown.get_json()["download_history"]
    assert [row["start"] for row in history] == [0, 4_096]
    assert [(row["start"], row["bytes"], row["complete"], row["ended"]) for row in history] == [
        (0, None, None, False),
        (4_096, 5_904, True, True),
    ]
    rows = page.split('<table class="download-history">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = rows.split("<tr>")[1:]
    assert len(rows) == 2 and "before it could record the bytes that went out" in rows[0]
    assert "5,904 bytes" in rows[1] and "interrupted" not in rows[1]


def test_an_end_recorded_before_ends_named_their_start_is_paired_with_its_start(
    officer: User, session: Session, runtime: Runtime
) -> None:
    """A `batch.downloaded` written before it named its `batch.download_started` is one row with it, not two."""
    made = as_ready(draft(session, runtime, officer, institute(session).id), size=10_000)
    reader = partner(session, made.institute_id)
    actor = Actor(id=reader.id, name=reader.username, role=Role.RESEARCH_PARTNER, ip="192.0.2.7")
    portal.record_download_started(session, actor=actor, batch=made, start=0, stop=10_000)
    details = {"user": reader.username, "ip": "192.0.2.7", "bytes": 10_000, "start": 0, "requested": 10_000}
    record_event(
        session,
        actor=actor,
        action="batch.downloaded",
        object_type="research_batch",
        object_id=made.id,
        details={**details, "complete": True},
    )
    session.flush()

    [row] = download_history(session, made.id)

    assert (row.start, row.size, row.complete, row.ended) == (0, 10_000, True, True)
