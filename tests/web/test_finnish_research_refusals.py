"""The research batch and institute pages say why an action was refused in the reader's language, through the
one mapping (web/ui/error_messages.py), instead of the service's English message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.research import batches
from recordings_service.research.batches import BatchRequest
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.research import institute, research_call
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH, post_as

INSTITUTES, NEW_BATCH = "/research/institutes/", "/research/batches/new"


@pytest.fixture
def second_client(app: Flask, session: Session) -> FlaskClient:
    """A second compliance user, who may approve what `officer` selected."""
    return client_of(app, make_user(session, role=Role.COMPLIANCE))


def post(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, headers: dict[str, str]) -> str:
    """Send a form as a reader of `headers`' language; what the answer (or the page it went back to) shows."""
    sent = post_as(client, path, data, token_from=token_from, headers=headers)
    if sent.status_code == 302:
        sent = client.get(sent.headers["Location"], headers=headers)
    return visible_text(sent.get_data(as_text=True))


def draft(session: Session, creator: User, institute_id: str, runtime: Runtime) -> ResearchBatch:
    now = utcnow().replace(microsecond=0)
    criteria = BatchCriteria.model_validate({"from": "2026-11-01", "to": "2026-11-30", "sample_size": 10, "seed": 7})
    request = BatchRequest(
        study="Laskututkimus",
        purpose="Miten arviolaskut selitetään",
        institute_id=institute_id,
        criteria=criteria,
        study_end=(now + timedelta(days=30)).date(),
        access_start=now - timedelta(hours=1),
        access_end=now + timedelta(days=2),
    )
    made = batches.create_batch(session, runtime.envelope, actor=actor_of(creator), request=request).made
    session.commit()
    return made


def act_on(client: FlaskClient, batch: ResearchBatch, action: str, *, headers: dict[str, str] = FINNISH) -> str:
    path = f"/research/batches/{batch.id}"
    return post(client, f"{path}/{action}", {"reason": "ei sovi"}, token_from=path, headers=headers)


# ---------------------------------------------------------------- batches


def test_approving_ones_own_batch_is_refused_in_finnish(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = draft(session, officer, institute(session).id, runtime)
    text = act_on(officer_client, made, "approve")
    assert "neljän silmän periaate: erän luoja ei voi hyväksyä sitä" in text and "four-eyes" not in text


def test_approving_a_batch_for_an_institute_without_a_safeguard_is_refused_in_finnish(
    second_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = draft(session, officer, institute(session, country="IN", name="Pune lab").id, runtime)
    text = act_on(second_client, made, "approve")
    assert "tutkimuslaitos on EU:n/ETA:n ulkopuolella, eikä sillä ole siirron suojatoimea" in text
    # The batch's page says what is missing in Finnish too (it was the service's English sentence).
    assert "Pune lab on EU:n/ETA:n ulkopuolella (IN)" in text and "has no transfer safeguard" not in text


def test_approving_a_batch_that_selected_no_calls_is_refused_in_finnish(
    second_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = draft(session, officer, institute(session).id, runtime)
    text = act_on(second_client, made, "approve")
    assert "erään ei valikoitunut yhtään puhelua; luo uusi erä väljemmin ehdoin" in text
    assert "selected no calls" not in text


def test_rejecting_an_approved_batch_is_refused_in_finnish(
    second_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    made = draft(session, officer, institute(session).id, runtime)
    act_on(second_client, made, "approve")
    text = act_on(second_client, made, "reject")
    assert "vain luonnostilassa olevan erän voi hyväksyä tai hylätä" in text and "only a draft" not in text


def test_retrying_a_build_that_did_not_fail_is_refused_in_finnish(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = draft(session, officer, institute(session).id, runtime)
    text = act_on(officer_client, made, "retry")
    assert "uudelleen voi yrittää vain epäonnistunutta koostamista" in text and "can be retried" not in text


def test_accepting_a_confirmation_none_sent_is_refused_in_finnish(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = draft(session, officer, institute(session).id, runtime)
    text = act_on(officer_client, made, "confirmation/accept")
    assert "mikään tämän erän vahvistus ei odota päätöstä" in text and "waiting for a decision" not in text


def batch_form(institute_id: str) -> dict[str, str]:
    today = utcnow().date()
    return {
        "study": "Arviolaskut",
        "purpose": "Miten arviolaskut selitetään",
        "institute_id": institute_id,
        "from": "2026-11-01",
        "to": "2026-11-30",
        "sample_size": "10",
        "study_end": (today + timedelta(days=90)).isoformat(),
        "access_start": f"{today.isoformat()}T08:00",
        "access_end": f"{(today + timedelta(days=30)).isoformat()}T16:00",
        "audio": "redacted",
    }


def test_a_batch_for_an_unknown_institute_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    institute(session)  # the form is offered once an institute exists
    session.commit()
    form = batch_form("01JNOSUCHINSTITUTE00000000")
    text = post(officer_client, NEW_BATCH, form, token_from=NEW_BATCH, headers=FINNISH)
    assert "valitse tutkimuslaitos luettelosta" in text and "not found" not in text


def test_a_batch_for_an_unknown_institute_is_refused_in_english_without_the_id(
    officer_client: FlaskClient, session: Session
) -> None:
    institute(session)
    session.commit()
    form = batch_form("01JNOSUCHINSTITUTE00000000")
    text = post(officer_client, NEW_BATCH, form, token_from=NEW_BATCH, headers=ENGLISH)
    assert "choose an institute from the list" in text and "01JNOSUCHINSTITUTE" not in text


def test_a_study_ending_before_the_access_window_is_refused_in_finnish(
    officer_client: FlaskClient, session: Session
) -> None:
    lab = institute(session)
    session.commit()
    form = {**batch_form(lab.id), "study_end": utcnow().date().isoformat()}
    text = post(officer_client, NEW_BATCH, form, token_from=NEW_BATCH, headers=FINNISH)
    assert "tutkimus ei voi päättyä ennen latausajan päättymistä" in text and "the study cannot" not in text


def test_a_metadata_field_named_twice_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    """Only a crafted form names a field twice (the page offers each once as a tick box)."""
    lab = institute(session)
    session.commit()
    form = {**batch_form(lab.id), "metadata_fields": ["started_at", "started_at"]}
    text = post(officer_client, NEW_BATCH, form, token_from=NEW_BATCH, headers=FINNISH)  # type: ignore[arg-type]
    assert "nimeä kukin kenttä vain kerran" in text and "name each field once" not in text


# ---------------------------------------------------------------- institutes


def institute_form(name: str, country: str = "FI") -> dict[str, str]:
    return {
        "name": name,
        "country": country,
        "agreement_ref": "DPA-7",
        "agreement_date": "2026-10-01",
        "contact": "lab@example.org",
    }


def test_an_institute_registered_twice_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    institute(session, name="Turun laboratorio")
    session.commit()
    form = institute_form("Turun laboratorio")
    text = post(officer_client, INSTITUTES, form, token_from=INSTITUTES, headers=FINNISH)
    assert "tämänniminen tutkimuslaitos on jo kirjattu" in text and "exists already" not in text


def test_an_institute_registered_twice_is_refused_in_english(officer_client: FlaskClient, session: Session) -> None:
    institute(session, name="Turku lab")
    session.commit()
    text = post(officer_client, INSTITUTES, institute_form("Turku lab"), token_from=INSTITUTES, headers=ENGLISH)
    assert "an institute of this name is registered already" in text


def test_an_unknown_country_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    form = institute_form("Ei missään", country="XX")
    text = post(officer_client, INSTITUTES, form, token_from=INSTITUTES, headers=FINNISH)
    assert "ei ole ISO 3166 -maakoodi: anna kaksi kirjainta" in text and "is not an ISO" not in text


def test_an_agreement_signed_in_the_future_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    form = {**institute_form("Tuleva"), "agreement_date": (utcnow().date() + timedelta(days=30)).isoformat()}
    text = post(officer_client, INSTITUTES, form, token_from=INSTITUTES, headers=FINNISH)
    assert "tulevaisuudessa allekirjoitettu sopimus ei ole voimassa" in text and "signed in the future" not in text


def test_a_safeguard_for_an_institute_in_the_eea_is_refused_in_finnish(
    officer_client: FlaskClient, session: Session
) -> None:
    lab = institute(session)
    session.commit()
    path = f"{INSTITUTES}{lab.id}/safeguard"
    form = {"safeguard_kind": "scc", "safeguard_reference": "SCC-1", "safeguard_date": "2026-10-02"}
    text = post(officer_client, path, form, token_from=INSTITUTES, headers=FINNISH)
    assert "maa on EU:ssa/ETA:ssa: siirron suojatoimia ei tarvita" in text and "no transfer safeguard" not in text
