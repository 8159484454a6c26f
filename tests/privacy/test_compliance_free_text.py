"""What compliance writes (a legal hold's reason and its release's, a retention policy's basis, a subject request's
extension and withdrawal reasons) is held to the rule all free text is (`recordings_service.written_text`). Found in a
sweep of the free-text fields: each took an escape, U+0001 or a bidi override (U+202E) as typed, shown on the holds
page, in the Art. 30 record and in a request's outcome, and a reason that fits once the whitespace around it is
trimmed (as it is kept) was refused for a line break pasted after it. The text keeps its line breaks and tabs; other
controls are refused, 422 `invalid_character` naming the field, in the reader's language on the pages. A basis stored
before stays as it is when a change of the period sends it back."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import LegalHold, RetentionPolicy
from recordings_service.models.account import Role
from recordings_service.models.privacy import SubjectRequest
from recordings_service.privacy import holds
from tests.factories.accounts import make_user
from tests.factories.free_text import SAID_LINES, refused_character
from tests.factories.privacy import OFFICER, access_request, customer
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

LINES = "Court order 2026/41:\n\tkeep until the case is closed."
CONTROLS = {"escape": "Court\x1b[31m order", "U+0001": "Court\x01 order", "bidi override": "Court \u202eredro"}
PADDED = "r" * holds.MAX_REASON + "\n\n "


@pytest.fixture
def officer(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}


def placed_hold(session: Session) -> LegalHold:
    hold = holds.place_hold(session, actor=OFFICER, reason="Dispute", customer_ref=customer(session).customer_ref).hold
    session.commit()
    return hold


def writes(session: Session, text: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each API write of compliance's free text, by the field it names: (path, body)."""
    ref = customer(session).customer_ref
    hold, request, other = placed_hold(session), access_request(session), access_request(session)
    return {
        "hold": ("/api/v1/legal-holds", {"customer_ref": ref, "reason": text}),
        "release": (f"/api/v1/legal-holds/{hold.id}/release", {"reason": text}),
        "basis": ("/api/v1/retention/policies/training", {"keep": 12, "unit": "months", "basis": text}),
        "extension": (f"/api/v1/subject-requests/{request.id}/extend", {"months": 1, "reason": text}),
        "withdrawal": (f"/api/v1/subject-requests/{other.id}/withdraw", {"reason": text}),
    }


WRITES = ["hold", "release", "basis", "extension", "withdrawal"]


@pytest.mark.parametrize("what", WRITES)
@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_control_character_is_refused_naming_the_field(
    client: FlaskClient, session: Session, officer: dict[str, str], what: str, typed: str
) -> None:
    path, body = writes(session, typed)[what]
    put = what == "basis"

    sent = (client.put if put else client.post)(path, json=body, headers=officer)
    refused_character(sent, "basis" if put else "reason")
    session.expire_all()
    assert typed.strip() not in session.scalars(select(LegalHold.reason)).all()
    assert session.scalars(select(LegalHold.release_reason).where(LegalHold.release_reason.is_not(None))).all() == []
    assert session.get_one(RetentionPolicy, "training").basis != typed
    assert (
        session.scalars(select(SubjectRequest.completed_at).where(SubjectRequest.completed_at.is_not(None))).all() == []
    )


@pytest.mark.parametrize("what", WRITES)
def test_text_keeps_its_lines_and_is_counted_as_kept(
    client: FlaskClient, session: Session, officer: dict[str, str], what: str
) -> None:
    for text, kept in ((LINES, LINES), (PADDED, PADDED.strip())):
        path, body = writes(session, text)[what]
        answer = (client.put if what == "basis" else client.post)(path, json=body, headers=officer)
        assert answer.status_code in {200, 201}, answer.get_json()
        session.expire_all()
        stored = {
            "hold": lambda: session.scalars(select(LegalHold.reason)).all(),
            "release": lambda: session.scalars(select(LegalHold.release_reason)).all(),
            "basis": lambda: [session.get_one(RetentionPolicy, "training").basis],
            "extension": lambda: session.scalars(select(SubjectRequest.extension_reason)).all(),
            "withdrawal": lambda: [(r.outcome or {}).get("reason") for r in session.scalars(select(SubjectRequest))],
        }[what]()
        assert kept in stored


def test_a_basis_stored_before_stays_when_the_period_changes(
    client: FlaskClient, session: Session, officer: dict[str, str]
) -> None:
    policy = session.get_one(RetentionPolicy, "training")
    policy.basis = "Training\x1b of agents"
    session.commit()

    body = {"keep": 400, "unit": "days", "basis": "Training\x1b of agents"}
    changed = client.put("/api/v1/retention/policies/training", json=body, headers=officer)

    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["policy"]["keep"] == 400
    refused_character(
        client.put("/api/v1/retention/policies/training", json={**body, "basis": "Other\x1b"}, headers=officer), "basis"
    )


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    app: Flask, session: Session, headers: dict[str, str], lang: str
) -> None:
    page = client_of(app, make_user(session, role=Role.COMPLIANCE))
    hold, request = placed_hold(session), access_request(session)
    ref = customer(session).customer_ref
    forms = [
        ("/compliance/holds", {"target": "customer", "value": ref, "reason": "Dispute\x1b", "new_customer": "1"}),
        (f"/compliance/holds/{hold.id}/release", {"reason": "Settled \u202e"}),
        ("/compliance/policies/training/apply", {"keep": "12", "unit": "months", "basis": "Training\x01"}),
        (f"/subjects/{request.id}/extend", {"months": "1", "reason": "Six\x1b years"}),
        (f"/subjects/{request.id}/withdraw", {"reason": "Twice\x01"}),
    ]
    for path, data in forms:
        sent = post_as(page, path, data, token_from="/compliance/holds", headers=headers)
        assert sent.status_code == 422, path
        assert SAID_LINES[lang] in shown_after(page, sent, headers=headers), path
    session.expire_all()
    assert session.get_one(LegalHold, hold.id).released_at is None
    assert session.get_one(SubjectRequest, request.id).completed_at is None
