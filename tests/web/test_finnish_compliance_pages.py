"""The compliance pages in Finnish: retention rules, keep periods, receipts and data-subject request kinds are
shown as words of the reader's language, never as the stored identifiers (`no_agreement`, `rectification`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models.account import Role
from recordings_service.models.privacy import SubjectRequest, SubjectRequestKind
from recordings_service.privacy import subjects, sweep
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token, login, make_user, post_form
from tests.factories.privacy import OFFICER, aged_call, customer
from tests.page_text import visible_text

FINNISH = {"Accept-Language": "fi"}
ENGLISH = {"Accept-Language": "en"}
NOW = datetime.now(UTC).replace(microsecond=0)
KINDS = [str(kind) for kind in SubjectRequestKind]


@pytest.fixture
def officer_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.COMPLIANCE))
    return client


def page(client: FlaskClient, path: str, headers: dict[str, str] = FINNISH) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return visible_text(response.get_data(as_text=True))


def assert_no_words(text: str, words: list[str]) -> None:
    for word in words:
        assert not re.search(rf"(?<![\w-]){word}(?![\w-])", text), word


def request_of(session: Session, kind: str, *, ref: str, days_ago: int = 0) -> SubjectRequest:
    return subjects.create_request(
        session, actor=OFFICER, customer_ref=ref, kind=kind, received_at=NOW - timedelta(days=days_ago)
    )


def test_the_policy_table_names_rules_and_periods_in_finnish(officer_client: FlaskClient) -> None:
    table = page(officer_client, "/compliance/")
    assert "sopimusta ei tehty" in table and "yleinen enimmäisaika" in table and "laatututkimus" in table
    assert re.search(r"\d+ kuukautta", table)
    assert_no_words(table, ["no_agreement", "maximum", "quality_study", "months", "days"])

    policy = page(officer_client, "/compliance/policies/no_agreement")
    assert "Käytäntö ”sopimusta ei tehty”" in policy and "päivää" in policy and "kuukautta" in policy
    assert_no_words(policy, ["no_agreement", "months", "days"])


def test_a_previewed_period_reads_in_finnish_and_english(officer_client: FlaskClient) -> None:
    form = {"keep": "1", "unit": "months", "basis": "Sopimus"}
    preview = post_form(officer_client, "/compliance/policies/training", form, token_from="/compliance/")
    english = visible_text(preview.get_data(as_text=True))
    assert "Keeping calls for 1 month would change" in english

    finnish = officer_client.post(
        "/compliance/policies/training",
        data={**form, "keep": "6", "csrf_token": csrf_token(officer_client, "/compliance/")},
        headers=FINNISH,
    )
    text = visible_text(finnish.get_data(as_text=True))
    assert "Säilytysaika 6 kuukautta muuttaisi" in text and "Käytäntö ”koulutus”" in text
    assert_no_words(text, ["months"])


def test_receipts_show_their_kind_and_counts_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    now = utcnow()
    sweep.record_receipt(
        session,
        actor=OFFICER,
        kind="sweep",
        started_at=now - timedelta(seconds=2.5),
        finished_at=now,
        deleted_ids=[],
        counts={"recordings": 0, "object_versions": 4, "transcripts": 2},
    )
    session.commit()
    receipts = page(officer_client, "/compliance/receipts")
    assert "poistoajo" in receipts and "tallennetut objektiversiot: 4" in receipts and "litteraatit: 2" in receipts
    assert_no_words(receipts, ["sweep", "object_versions", "transcripts", "recordings"])
    # Found by exploratory testing: the run's duration kept the English decimal point ("2.5 s").
    assert "2,5 s" in receipts and "2.5 s" not in receipts


def test_request_kinds_read_in_finnish_in_lists_select_heading_and_dashboard(
    officer_client: FlaskClient, session: Session
) -> None:
    person = customer(session)
    made = {kind: request_of(session, kind, ref=person.customer_ref) for kind in KINDS}
    late = request_of(session, "rectification", ref=customer(session).customer_ref, days_ago=40)
    session.commit()

    listing = page(officer_client, "/subjects/")
    assert "oikaisupyyntö" in listing and "tietopyyntö" in listing and "vastustamispyyntö" in listing
    assert_no_words(listing, KINDS)
    lookup = page(officer_client, f"/subjects/?customer_ref={person.customer_ref}")
    for label in ("tietopyyntö", "vastustamispyyntö", "oikaisupyyntö", "rajoituspyyntö", "poistopyyntö"):
        assert lookup.count(label) >= 2, label  # the customer's requests and the kind select
    assert_no_words(lookup, KINDS)
    detail = page(officer_client, f"/subjects/{made['rectification'].id}")
    assert "Oikaisupyyntö" in detail and "Request for" not in detail
    assert_no_words(detail, KINDS)

    dashboard = page(officer_client, "/dashboard")
    assert "Myöhässä olevat rekisteröityjen pyynnöt" in dashboard and "oikaisupyyntö" in dashboard
    assert_no_words(dashboard, KINDS)
    assert late.customer_ref in dashboard


def test_counts_of_restricted_calls_and_days_are_plural_aware(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    aged_call(session, store, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    request = request_of(session, "restriction", ref=person.customer_ref)
    session.commit()
    path = f"/subjects/{request.id}"
    assert post_form(officer_client, f"{path}/fulfil", {}, token_from=path).status_code == 302

    english = page(officer_client, path, ENGLISH)
    assert "1 call is restricted." in english and "1 calls" not in english
    finnish = page(officer_client, path)
    assert "Käsittelyä on rajoitettu 1 puhelun osalta." in finnish
    assert "Rajoituspyyntö" in finnish
