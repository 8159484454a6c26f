"""A full disk while an upload is spooled is a 503 with `Retry-After`, as an unreachable store is, never a 500: the
telephony system sends the call again later, and nothing of the refused upload is kept. Found by exploratory
testing (a 40 MB tmpfs as the data directory's spool): every such upload was `500 internal_error`, which a client
treats as refused for good.

The disk is made full by the spool's write failing with ENOSPC (monkeypatched): filling a real disk is not safe on
a machine the tests share, and mounting a small one needs privileges CI may not have."""

from __future__ import annotations

import errno

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import Recording
from recordings_service.storage import spool
from tests.factories.recordings import call_metadata, make_token, post_ingest


def test_an_upload_meeting_a_full_disk_is_503_with_retry_after_and_leaves_nothing(
    client: FlaskClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = make_token(session)
    written = spool.Spool.write

    def write_until_full(self: spool.Spool, data: bytes) -> int:
        if self.size > 64 * 1024:  # a part of the upload went to disk first
            raise OSError(errno.ENOSPC, "No space left on device")
        return written(self, data)

    monkeypatch.setattr(spool.Spool, "write", write_until_full)
    spooled_before = set(spool.spool_dir(settings).iterdir())  # the folder is the test worker's, shared

    response = post_ingest(client, token, call_metadata())

    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"] == "unavailable"
    assert session.scalar(select(func.count()).select_from(Recording)) == 0
    assert set(spool.spool_dir(settings).iterdir()) == spooled_before  # nothing of this upload left

    monkeypatch.undo()  # space again: the same call is taken
    assert post_ingest(client, token, call_metadata()).status_code == 201
