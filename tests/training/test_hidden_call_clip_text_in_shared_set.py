"""A clip of a call hidden from trainers since it was cut (restricted under GDPR Art. 18, or kept by an erasure for
a legal duty) keeps its place in a shared set, withdrawn, but what its author wrote about the call (title, tags,
notes) is for its author only: the other trainers are refused the clip itself (404), and before, the set showed
them that text, on its page and in `GET /api/v1/training/sets/<id>` (found by exploratory testing)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.factories.training import bearer, stereo_call

API = "/api/v1/training"
WRITTEN = ("Refund dispute at the Espoo office", "contract-cancel", "Listen to how the refund is refused")


@pytest.mark.parametrize("hidden_by", ["restricted", "erasure_kept"])
def test_other_trainers_see_a_hidden_calls_clip_in_a_shared_set_without_its_text(
    app: Flask, client: FlaskClient, session: Session, runtime: Runtime, hidden_by: str
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    author, other = (bearer(make_token(session, role=Role.TRAINER, scope="training")) for _ in range(2))
    title, tag, notes = WRITTEN
    cut = client.post(
        f"{API}/clips",
        headers=author,
        json={"recording_id": call.id, "start_s": 3.5, "end_s": 9.2, "title": title, "tags": [tag], "notes": notes},
    )
    assert cut.status_code == 201, cut.get_data(as_text=True)
    clip_id = cut.get_json()["id"]
    made = client.post(f"{API}/sets", headers=author, json={"title": "Refunds", "shared": True, "clip_ids": [clip_id]})
    set_id = made.get_json()["id"]
    setattr(session.get_one(Recording, call.id), hidden_by, True)
    session.commit()

    assert client.get(f"{API}/clips/{clip_id}", headers=other).status_code == 404
    shown = client.get(f"{API}/sets/{set_id}", headers=other)
    page = client_of(app, make_user(session, role=Role.TRAINER)).get(f"/training/sets/{set_id}")

    assert shown.status_code == 200 and page.status_code == 200
    (item,) = shown.get_json()["items"]
    assert (item["clip"]["id"], item["clip"]["status"], item["clip"]["audio"]) == (clip_id, "withdrawn", None)
    assert (item["clip"]["title"], item["clip"]["tags"], item["clip"]["notes"]) == ("", [], "")
    assert not [text for text in WRITTEN if text in shown.get_data(as_text=True) or text in page.get_data(as_text=True)]
    assert "withdrawn" in page.get_data(as_text=True)
    # Its author still reads what they wrote, to know the clip they may delete.
    (own,) = client.get(f"{API}/sets/{set_id}", headers=author).get_json()["items"]
    assert (own["clip"]["title"], own["clip"]["tags"], own["clip"]["notes"]) == (title, [tag], notes)
