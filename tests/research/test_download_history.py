"""Compliance proves custody from the batch itself: every answered request for the package (who, from where, when,
which bytes) is listed on the batch's page and in its API answer, where only a count and the last time were."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.research import partner, research_call

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
    assert client.get(url, headers={**lab, "Range": f"bytes={size // 2}-", "If-Range": tag}).status_code == 206

    shown = client.get(f"/api/v1/research/batches/{batch.id}", headers={"Authorization": f"Bearer {officer}"})
    page = officer_client.get(f"/research/batches/{batch.id}").get_data(as_text=True)

    history = shown.get_json()["download_history"]
    assert [(row["user"], row["ip"], row["start"], row["bytes"]) for row in history] == [
        (reader.username, "127.0.0.1", 0, size),
        (reader.username, "127.0.0.1", size // 2, size - size // 2),
    ]
    assert history[0]["at"] <= history[1]["at"]
    assert "Download history" in page and page.count(f"<td>{reader.username}</td>") == 2
