"""A research partner's broken package download resumes where it stopped: the package carries a strong ETag, a
Range under If-Range with that tag gets the rest (one download, audited with the bytes each answer carried),
and a package built again with other contents answers the old tag with the whole new package."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import Recording, ResearchBatch
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.research import partner, research_call, reset_build

MakeBatch = Callable[..., ResearchBatch]


def test_a_broken_package_download_resumes_and_a_rebuilt_package_starts_again(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    calls = [research_call(session, runtime.store, runtime.envelope) for _ in range(3)]
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    url = f"/api/v1/research/batches/{batch.id}/package"

    probed = client.head(url, headers=lab)
    whole = client.get(url, headers=lab)
    tag = whole.headers["ETag"]
    size = len(whole.data)
    broke_at = size // 3
    rest = client.get(url, headers={**lab, "Range": f"bytes={broke_at}-", "If-Range": tag})

    assert tag.startswith('"') and probed.headers["ETag"] == tag and probed.data == b""
    assert batch.package_sha256 is not None and batch.package_sha256 not in tag
    assert whole.headers["Content-Disposition"] == f'attachment; filename="research-{batch.id}.zip"'
    assert (rest.status_code, rest.headers["ETag"]) == (206, tag)
    assert rest.headers["Content-Range"] == f"bytes {broke_at}-{size - 1}/{size}"
    assert whole.data[:broke_at] + rest.data == whole.data and rest.headers["Cache-Control"] == "no-store"
    assert [(e.details["start"], e.details["bytes"]) for e in events(session, "batch.downloaded", batch.id)] == [
        (0, size),
        (broke_at, size - broke_at),
    ]
    session.refresh(batch)
    assert batch.downloads == 1  # the resume finishes the same download

    # One call may no longer go to research: the package is built again without it, to other bytes.
    session.execute(update(Recording).where(Recording.id == calls[0].id).values(status="deleted"))
    reset_build(session, batch)
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready" and batch.items_withdrawn == 1

    again = client.get(url, headers={**lab, "Range": f"bytes={broke_at}-", "If-Range": tag})

    assert again.status_code == 200 and "Content-Range" not in again.headers
    assert again.data != whole.data and len(again.data) == batch.package_size
    assert again.headers["ETag"] not in (tag, None)
    assert events(session, "batch.downloaded", batch.id)[-1].details["start"] == 0
    session.refresh(batch)
    assert batch.downloads == 2
