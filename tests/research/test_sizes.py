"""Package and certificate sizes on the research and partner pages read as people read them ("11.8 MiB",
Finnish "11,8 MiB"), the exact byte count on hover; the API keeps giving bytes."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import CustodyConfirmation, User
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.research import as_ready, draft, institute, partner
from tests.factories.staff import client_of
from web.ui.research import byte_size

PACKAGE = 12_345_678  # 11.77 MiB


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(
    ("size", "language", "shown"),
    [
        (0, "en", "0 bytes"),
        (1023, "en", "1,023 bytes"),
        (1024, "en", "1.0 KiB"),
        (1_048_575, "en", "1.0 MiB"),  # 1023.999 KiB rounds into the next unit, not "1,024.0 KiB"
        (PACKAGE, "en", "11.8 MiB"),
        (PACKAGE, "fi", "11,8 MiB"),
        (5 * 2**30 + 2**29, "en", "5.5 GiB"),
        (3 * 2**40, "en", "3.0 TiB"),
        (2**60, "en", "1,048,576.0 TiB"),
    ],
)
def test_a_byte_count_reads_in_the_largest_binary_unit_in_the_readers_language(
    app: Flask, size: int, language: str, shown: str
) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        assert _text(str(byte_size(size))).strip() == shown


def test_the_partner_and_compliance_pages_show_the_package_size_in_mib(
    app: Flask, officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab), size=PACKAGE)
    session.add(
        CustodyConfirmation(
            batch_id=made.id,
            method="destroyed",
            confirmed_on=made.access_start.date(),
            signer="Dr. A. Researcher",
            title="Head of lab",
            statement="Deleted.",
            submitted_by=officer.id,
            certificate_key=f"custody/{made.id}/x.pdf",
            certificate_sha256="cd" * 32,
            certificate_size=204_800,
        )
    )
    session.commit()
    partner_client = client_of(app, partner(session, lab))

    shown = partner_client.get(f"/partner/batches/{made.id}").get_data(as_text=True)
    assert "11.8 MiB" in _text(shown) and "12345678 bytes" not in shown
    assert 'title="12,345,678 bytes"' in shown  # the exact count, to check the download against
    finnish = partner_client.get(f"/partner/batches/{made.id}", headers={"Accept-Language": "fi"})
    assert "11,8 MiB" in _text(finnish.get_data(as_text=True))

    compliance = _text(officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True))
    assert "11.8 MiB" in compliance and "200.0 KiB" in compliance and "12345678 bytes" not in compliance

    token = make_token(session, role=officer.role, scope="research")
    api = officer_client.get(f"/api/v1/research/batches/{made.id}", headers={"Authorization": "Bearer " + token})
    assert api.json["package"]["size"] == PACKAGE  # the API stays in bytes
    assert api.json["confirmations"][0]["certificate_size"] == 204_800
