"""What compliance and a research partner write for each other is held to the rule all free text is
(`recordings_service.written_text`). Found in a sweep of the free-text fields: a reason, a purpose or a custody
statement that fits once its surrounding whitespace is trimmed (as it is kept) was refused for that padding (the API
and the services counted it as sent), and a study's name, a signer's name or a reason took an escape, U+0001 or a bidi
override (U+202E, which turns the text after it round on the institute's and compliance's pages) as typed.

Names (a study's, a signer's, an institute's) are one line of visible text; purposes, reasons and statements keep their
line breaks and tabs and refuse other control characters and the bidi controls: 422 `invalid_character` naming the
field, in the reader's language on the pages."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import CustodyConfirmation, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.research.text import MAX_TEXT
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.recordings import make_token
from tests.factories.research import (
    as_ready,
    batch_body,
    downloaded_by_partner,
    downloaded_with_partner_token,
    draft,
    institute,
    research_call,
)
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

# A reason as long as a batch keeps, pasted with the blank lines and indent after it.
PADDED = "r" * MAX_TEXT + "\n\n  \t"
LINES = "The agreement ended.\n\n\tEvery copy goes back:\nsee the letter 👍🏽"
CONTROLS = {"escape": "Ended\x1b[31m", "U+0001": "Ended\x01", "bidi override": "Ended \u202edetanimret"}
INVISIBLE = {"zero-width space": "\u200b", "bidi override": "Dr. \u202eA", "line break": "Dr. A\nResearcher"}
SAID_LINES = "may hold line breaks and tabs, but no other control character"
SAID_LINE = "is one line of visible text"
PAGE = {
    "lines": {"fi": "rivinvaihdot ja sarkaimet käyvät tässä, mutta poista ohjausmerkki", "en": "line breaks and tabs"},
    "line": {"fi": "tämä on yksi rivi näkyvää tekstiä: poista siitä näkymätön merkki", "en": "one line of visible"},
}


def compliance(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}


def ready(session: Session, runtime: Runtime) -> ResearchBatch:
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id))
    session.commit()
    return batch


def refused(response: Any, field: str, said: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], body["field"]) == ("invalid_character", field), body
    assert "U+" in body["message"] and said in body["message"]


def confirm(client: FlaskClient, batch_id: str, plain: str, **fields: str) -> Any:
    form = {
        "method": "destroyed",
        "date": utcnow().date().isoformat(),
        "signer": "Dr. A. Researcher",
        "title": "Head of lab",
    }
    form |= {"statement": "Every copy was deleted.", **fields}
    return client.post(
        f"/api/v1/research/batches/{batch_id}/confirmation",
        data=form,
        headers={"Authorization": f"Bearer {plain}"},
        content_type="multipart/form-data",
    )


def test_a_reason_that_fits_once_trimmed_is_taken_as_kept(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    officer = compliance(session)
    to_reject, to_end = ready(session, runtime), ready(session, runtime)
    to_reject.state = "draft"
    session.commit()

    rejected = client.post(f"/api/v1/research/batches/{to_reject.id}/reject", json={"reason": PADDED}, headers=officer)
    ended = client.post(f"/api/v1/research/batches/{to_end.id}/end-access", json={"reason": PADDED}, headers=officer)

    assert rejected.status_code == 200, rejected.get_json()
    assert ended.status_code == 200, ended.get_json()
    session.expire_all()
    assert session.get_one(ResearchBatch, to_reject.id).rejection_reason == "r" * MAX_TEXT
    assert session.get_one(ResearchBatch, to_end.id).access_ended_reason == "r" * MAX_TEXT
    # One character more, once trimmed, is too long as before.
    over = client.post(
        f"/api/v1/research/batches/{ready(session, runtime).id}/end-access",
        json={"reason": "r" * (MAX_TEXT + 1) + " "},
        headers=officer,
    )
    assert (over.status_code, over.get_json()["field"]) == (422, "reason")


@pytest.mark.parametrize("typed", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_reason_or_purpose_holding_a_control_character_is_refused_naming_it(
    client: FlaskClient, session: Session, runtime: Runtime, typed: str
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    lab = institute(session).id
    officer = compliance(session)
    batch = ready(session, runtime)

    path = f"/api/v1/research/batches/{batch.id}/end-access"
    refused(client.post(path, json={"reason": typed}, headers=officer), "reason", SAID_LINES)
    created = client.post("/api/v1/research/batches", json={**batch_body(lab), "purpose": typed}, headers=officer)
    refused(created, "purpose", SAID_LINES)
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).access_ended_reason is None
    assert session.scalar(select(func.count()).select_from(ResearchBatch)) == 1
    # Line breaks and tabs are the text's own.
    taken = client.post(path, json={"reason": LINES}, headers=officer)
    assert taken.status_code == 200, taken.get_json()
    assert taken.get_json()["access_ended_reason"] == LINES


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_name_holding_an_invisible_character_is_refused_naming_it(
    client: FlaskClient, session: Session, runtime: Runtime, typed: str
) -> None:
    batch, plain = downloaded_with_partner_token(session, runtime)
    officer = compliance(session)

    refused(confirm(client, batch.id, plain, signer=typed), "signer", SAID_LINE)
    refused(confirm(client, batch.id, plain, title=typed), "title", SAID_LINE)
    created = client.post(
        "/api/v1/research/batches", json={**batch_body(batch.institute_id), "study": typed}, headers=officer
    )
    refused(created, "study", SAID_LINE)
    assert session.scalar(select(func.count()).select_from(CustodyConfirmation)) == 0


def test_a_statement_keeps_its_lines_and_refuses_controls(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch, plain = downloaded_with_partner_token(session, runtime)

    refused(confirm(client, batch.id, plain, statement="Deleted \u202eten"), "statement", SAID_LINES)
    taken = confirm(client, batch.id, plain, statement=LINES + "\n" + " " * 10)

    assert taken.status_code == 201, taken.get_json()
    assert session.scalars(select(CustodyConfirmation.statement)).one() == LINES


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_pages_say_so_in_the_readers_language(
    app: Any, officer_client: FlaskClient, session: Session, runtime: Runtime, headers: dict[str, str], lang: str
) -> None:
    batch, user = downloaded_by_partner(session, runtime)
    partner_client = client_of(app, user)
    page = f"/partner/batches/{batch.id}"
    form = {
        "method": "destroyed",
        "confirmed_on": utcnow().date().isoformat(),
        "signer": "Dr. \u202eA",
        "title": "Head of lab",
    }
    form |= {"statement": "Every copy was deleted."}

    signed = post_as(partner_client, f"{page}/confirmation", form, token_from=page, headers=headers)
    assert signed.status_code == 422
    assert PAGE["line"][lang] in shown_after(partner_client, signed, headers=headers)

    batch_page = f"/research/batches/{batch.id}"
    ended = post_as(
        officer_client, f"{batch_page}/end-access", {"reason": "Ended\x1b"}, token_from=batch_page, headers=headers
    )
    assert ended.status_code == 422
    assert PAGE["lines"][lang] in shown_after(officer_client, ended, headers=headers)
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).access_ended_reason is None
    assert session.scalar(select(func.count()).select_from(CustodyConfirmation)) == 0
