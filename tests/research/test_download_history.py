"""Compliance proves custody from the batch itself: every answered request for the package (who, from where, when,
which bytes) is listed on the batch's page and in its API answer, where only a count and the last time were."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.audit import Actor
from recordings_service.models import ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.research import portal
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
    portal.record_download_started(session, actor=actor, batch=made, start=0, stop=10_000)
    portal.record_download(session, actor=actor, batch_id=made.id, start=0, requested=10_000, sent=4_096)
    session.commit()

    page = officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True)

    row = page.split('<table class="download-history">', 1)[1].split("</tbody>", 1)[0]
    assert "4,096 bytes" in row and "interrupted: the connection broke before the rest went out" in row
