"""The compliance pages: preview then change a policy, place and release holds, receipts, the dashboard's proof."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import RETENTION_ACTOR, prove, sweep
from recordings_service import tokens
from recordings_service.config import Settings
from recordings_service.models import AuditEvent, LegalHold, RetentionPolicy
from recordings_service.models.account import Role
from recordings_service.privacy.subjects import create_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM, login, make_user, post_form
from tests.factories.privacy import OFFICER, aged_call, customer, reload

LONG_AGO = datetime.now(UTC) - timedelta(days=800)
RECENT = datetime.now(UTC) - timedelta(days=200)


def officer(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))


def test_compliance_previews_then_changes_a_policy(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    recent = aged_call(session, bucket, envelope, started_at=RECENT, purposes=["training"])
    before = recent.retain_until
    officer(client, session)
    page = client.get("/compliance/")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    text = page.get_data(as_text=True)
    assert "Limitation of Debts Act" in text and "/api/v1/retention/policies.csv" in text

    preview = post_form(
        client,
        "/compliance/policies/training",
        {"keep": "6", "unit": "months", "basis": "shorter"},
        token_from="/compliance/",
    )
    assert preview.status_code == 200
    assert "would change the retention date of 1 recording." in preview.get_data(as_text=True)
    assert reload(session, recent.id).retain_until == before  # a preview changes nothing

    applied = post_form(
        client,
        "/compliance/policies/training/apply",
        {"keep": "6", "unit": "months", "basis": "Six months is enough for training."},
        token_from="/compliance/",
    )
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/compliance/")
    assert "1 recording recomputed" in client.get("/compliance/").get_data(as_text=True)
    assert reload(session, recent.id).retain_until < before
    session.expire_all()
    assert session.get_one(RetentionPolicy, "training").keep == 6
    assert "retention.policy_changed" in session.scalars(select(AuditEvent.action))

    too_long = post_form(
        client,
        "/compliance/policies/training",
        {"keep": "999", "unit": "months", "basis": "x"},
        token_from="/compliance/",
    )
    assert too_long.status_code == 422 and "global maximum" in too_long.get_data(as_text=True)


def test_a_refused_policy_change_comes_back_as_typed_and_changes_nothing(client: FlaskClient, session: Session) -> None:
    officer(client, session)
    basis = "Customer disputes are settled within three years, so training keeps its calls that long."
    applied = post_form(
        client,
        "/compliance/policies/training/apply",
        {"keep": "5000", "unit": "months", "basis": basis},
        token_from="/compliance/",
    )
    # It was a redirect to the policy's stored values, the typed basis lost.
    page = applied.get_data(as_text=True)
    assert applied.status_code == 422 and f">{basis}</textarea>" in page
    assert re.search(r'<input id="keep"[^>]*value="5000"[^>]*aria-invalid="true"', page)
    shown = '<p class="flash error" role="alert" id="policy-error">between 1 and 36525 days, or 1 and 1200 months</p>'
    assert shown in page and page.index(shown) < page.index('id="keep"')
    session.expire_all()
    assert session.get_one(RetentionPolicy, "training").keep != 5000
    assert "retention.policy_changed" not in session.scalars(select(AuditEvent.action))


def test_compliance_places_and_releases_holds_and_the_call_page_shows_them(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    disputed = customer(session)
    call = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
    officer(client, session)

    placed = post_form(
        client,
        "/compliance/holds",
        {"target": "customer", "value": disputed.customer_ref, "reason": "billing dispute 2026-17"},
        token_from="/compliance/holds",
    )
    assert placed.status_code == 302
    listed = client.get("/compliance/holds").get_data(as_text=True)
    assert "Legal hold placed on 1 recording." in listed and "billing dispute 2026-17" in listed
    assert reload(session, call.id).legal_hold
    call_page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Legal hold" in call_page and "billing dispute 2026-17" in call_page

    missing = post_form(
        client,
        "/compliance/holds",
        {"target": "recording", "value": call.id, "reason": " "},
        token_from="/compliance/holds",
    )
    # Refused, the form comes back as typed with the reason beside it, the reason field marked (it was a redirect
    # to an empty form, found by exploratory testing).
    shown = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "state the reason" in shown and f'value="{call.id}"' in shown
    assert re.search(r'<input id="reason"[^>]*aria-invalid="true"', shown)

    hold_id = session.scalars(select(LegalHold.id)).one()
    released = post_form(
        client, f"/compliance/holds/{hold_id}/release", {"reason": "settled"}, token_from="/compliance/holds"
    )
    assert released.status_code == 302
    assert "Legal hold released." in client.get("/compliance/holds?state=released").get_data(as_text=True)
    assert not reload(session, call.id).legal_hold
    assert "billing dispute" not in client.get(f"/calls/{call.id}").get_data(as_text=True)


def test_receipts_and_the_recorded_check_show_for_compliance_only(
    client: FlaskClient,
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
) -> None:
    aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    officer(client, session)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Overdue now" in dashboard and "No check recorded yet" in dashboard

    now = datetime.now(UTC)
    report = sweep(sessions, bucket, now=now, batch=10, actor=OFFICER, dry_run=False)
    result = prove(sessions, bucket, now=now, actor=RETENTION_ACTOR, clean=True)
    assert len(report.recording_ids) == 1 and (result.overdue, result.orphans) == (0, 0)

    receipts = client.get("/compliance/receipts").get_data(as_text=True)
    assert report.recording_ids[0] in receipts and "stored object versions: 4" in receipts
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Orphaned objects at the last check" in dashboard and "by retention" in dashboard

    overdue = create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="access",
        received_at=now - timedelta(days=40),
    )
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Overdue data-subject requests" in dashboard and f"/subjects/{overdue.id}" in dashboard

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert "Overdue now" not in client.get("/dashboard").get_data(as_text=True)
    for path in ("/compliance/", "/compliance/holds", "/compliance/receipts", "/compliance/policies/training"):
        assert client.get(path).status_code == 403, path
    refused = post_form(
        client, "/compliance/holds", {"target": "recording", "value": "x", "reason": "y"}, token_from="/dashboard"
    )
    assert refused.status_code == 403


def test_the_admin_pages_show_when_each_token_expires(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    owner = make_user(session, role=Role.COMPLIANCE)
    token, _ = tokens.create_token(session, actor=SYSTEM, user=owner, scope="compliance")
    session.flush()
    login(client, make_user(session, role=Role.ADMIN))
    users = client.get("/admin/users").get_data(as_text=True)
    # A compliance token lives 30 days, and one just made has 30 left (to the nearest day, not 29 whole ones).
    assert token.id in users and "in 30 days" in users and token.expires_at is not None
    # In the organisation's time zone, UTC on hover.
    local = token.expires_at.astimezone(ZoneInfo(settings.timezone))
    expected = f'title="{token.expires_at:%Y-%m-%d %H:%M} UTC">{local:%Y-%m-%d %H:%M}</time>'
    assert expected in users
    assert "in 30 days" in client.get(f"/admin/users/{owner.id}").get_data(as_text=True)
