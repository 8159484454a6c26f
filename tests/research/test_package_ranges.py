"""The partner's package download answers byte ranges as RFC 9110 §14 says, and audits what each answer carried:
a suffix longer than the package is all of it, `bytes=-0` is refused and serves nothing, an unknown unit and a
Range under a non-matching If-Range are ignored (a resume onto other bytes would splice two packages), several
ranges get the whole package (found by exploratory testing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.research import partner, research_call

MakeBatch = Callable[..., ResearchBatch]


@pytest.fixture
def ready(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> tuple[ResearchBatch, dict[str, str]]:
    """A built batch and its partner's token headers."""
    for _ in range(2):
        research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready" and batch.package_size
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    return batch, {"Authorization": f"Bearer {plain}"}


@pytest.mark.parametrize(
    ("headers", "partial"),
    [
        ({"Range": "bytes=-400000000"}, True),
        ({"Range": "items=0-9"}, False),
        ({"Range": "bytes=100-", "If-Range": '"bogus"'}, False),
        ({"Range": "bytes=0-1,5-6"}, False),
    ],
    ids=["suffix-longer-than-package", "unknown-unit", "if-range-mismatch", "several-ranges"],
)
def test_the_package_is_served_whole_and_counted_as_a_download(
    client: FlaskClient,
    session: Session,
    ready: tuple[ResearchBatch, dict[str, str]],
    headers: dict[str, str],
    partial: bool,
) -> None:
    batch, lab = ready
    url = f"/api/v1/research/batches/{batch.id}/package"
    whole = client.get(url, headers=lab)
    size = len(whole.data)

    response = client.get(url, headers={**lab, **headers})

    assert (response.status_code, response.data) == (206 if partial else 200, whole.data)
    assert response.headers.get("Content-Range") == (f"bytes 0-{size - 1}/{size}" if partial else None)
    assert [(e.details["start"], e.details["bytes"]) for e in events(session, "batch.downloaded", batch.id)] == [
        (0, size),
        (0, size),
    ]
    session.refresh(batch)
    assert batch.downloads == 2


def test_a_zero_length_suffix_of_the_package_is_refused_and_not_audited(
    client: FlaskClient, session: Session, ready: tuple[ResearchBatch, dict[str, str]]
) -> None:
    batch, lab = ready

    response = client.get(f"/api/v1/research/batches/{batch.id}/package", headers={**lab, "Range": "bytes=-0"})

    assert response.status_code == 416 and response.headers["Content-Range"] == f"bytes */{batch.package_size}"
    assert events(session, "batch.downloaded", batch.id) == []


def test_a_head_request_for_the_package_is_no_download(
    client: FlaskClient, session: Session, ready: tuple[ResearchBatch, dict[str, str]]
) -> None:
    """Found by exploratory testing: a HEAD (a download manager's probe) was audited as a download of the whole
    package and raised the batch's download count, though no byte left."""
    batch, lab = ready
    url = f"/api/v1/research/batches/{batch.id}/package"

    probed = client.head(url, headers=lab)

    assert (probed.status_code, probed.data) == (200, b"")
    assert probed.headers["Content-Length"] == str(batch.package_size)
    assert events(session, "batch.download_started", batch.id) == events(session, "batch.downloaded", batch.id) == []
    session.refresh(batch)
    assert batch.downloads == 0
    assert client.get(url, headers=lab).data
    assert len(events(session, "batch.downloaded", batch.id)) == 1
