"""Found by exploratory testing: compliance's "end access now" (a suspected breach) did not stop a download already
in progress: the partner read the first megabyte, access was ended, and the rest of the package still went out
(and a whole package counted as downloaded, after the access had ended). An answer now asks again while it sends
whether the package may still go out, and ends short, the stop audited with its rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.research import portal
from recordings_service.research.lifecycle import DOWNLOADED
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import CHUNK
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.recordings import make_token
from tests.factories.research import partner, research_call

MakeBatch = Callable[..., ResearchBatch]


def test_ending_access_stops_a_download_in_progress(
    client: FlaskClient,
    session: Session,
    runtime: Runtime,
    approved_batch: MakeBatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(4):
        research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready" and (batch.package_size or 0) > CHUNK  # more than one chunk to send
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    compliance = {"Authorization": f"Bearer {make_token(session, role='compliance', scope='research')}"}
    session.commit()
    monkeypatch.setattr(
        portal, "RECHECK_EVERY_S", 0.0, raising=False
    )  # asked before every chunk: no waiting in the test

    answer = client.get(
        f"/api/v1/research/batches/{batch.id}/package", headers={"Authorization": f"Bearer {plain}"}, buffered=False
    )
    chunks = iter(answer.response)
    received = len(next(chunks))
    ended = client.post(
        f"/api/v1/research/batches/{batch.id}/end-access", json={"reason": "Suspected breach"}, headers=compliance
    )
    assert ended.status_code == 200, ended.get_json()
    received += sum(len(chunk) for chunk in chunks)
    answer.close()

    assert answer.status_code == 200 and received == CHUNK  # the first chunk only
    [stopped] = events(session, "research.download_stopped", batch.id)
    assert stopped.details == {"rule": "window"}
    [sent] = events(session, DOWNLOADED, batch.id)
    assert (sent.details["bytes"], sent.details["complete"], sent.details["counted"]) == (CHUNK, False, False)
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).downloads == 0
