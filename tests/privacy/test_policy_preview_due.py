"""A policy change's preview says how many calls it would put past their retention date at once.

Found by exploratory testing: shortening `training` to 6 months made older calls due at once, and the next daily
sweep deleted them for good, while the preview said only "would change the retention date of 3 recordings". It now
says how many of those the sweep would delete (a call on legal hold is kept, so not counted), on the page and in the
API (`due_now`).
"""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models.account import Role
from recordings_service.privacy import holds, retention
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call
from tests.factories.recordings import make_token

DAY = timedelta(days=1)


def _training_calls(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> None:
    """Training calls of 9 months ago (one of them held) and of last month, kept for 12 months today."""
    now = utcnow()
    for started_at in (now - 270 * DAY, now - 270 * DAY, now - 30 * DAY):
        aged_call(session, bucket, envelope, started_at=started_at, purposes=["training"])
    held = aged_call(session, bucket, envelope, started_at=now - 280 * DAY, purposes=["training"])
    holds.place_hold(session, actor=OFFICER, reason="Complaint 2026-41 under review.", recording_id=held.id)
    session.commit()


def test_the_preview_counts_the_calls_the_next_sweep_would_delete(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    _training_calls(session, bucket, envelope)

    shorter = retention.preview_policy_change(session, rule="training", keep=6, unit="months", zone=ORG_ZONE)
    assert (shorter.affected, shorter.due_now) == (4, 2)  # the held one moves too, but is kept
    longer = retention.preview_policy_change(session, rule="training", keep=24, unit="months", zone=ORG_ZONE)
    assert (longer.affected, longer.due_now) == (4, 0)


def test_the_api_and_the_page_say_so(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    _training_calls(session, bucket, envelope)
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    preview = client.post(
        "/api/v1/retention/policies/training/preview", json={"keep": 6, "unit": "months"}, headers=officer
    )
    assert preview.status_code == 200, preview.json
    assert preview.json == {"rule": "training", "affected": 4, "due_now": 2}

    login(client, make_user(session, role=Role.COMPLIANCE))
    form = {"keep": "6", "unit": "months", "basis": "One training cycle."}
    page = post_form(client, "/compliance/policies/training", form, token_from="/compliance/policies/training")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 of them would be past their new retention date at once: the next daily sweep deletes them" in html
    calm = post_form(client, "/compliance/policies/training", {**form, "keep": "24"}, token_from="/compliance/")
    assert "past their new retention date" not in calm.get_data(as_text=True)
