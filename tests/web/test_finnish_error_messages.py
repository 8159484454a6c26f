"""A refused action on the compliance, subject-request and training pages says why in the reader's language
(web/ui/error_messages.py), not in the service's English; an error it does not know keeps the service's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import holds, subjects
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, customer
from tests.factories.training import training_call
from tests.page_text import visible_text
from tests.web.reader_language import FINNISH, post_finnish, shown_after

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def officer_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.COMPLIANCE))
    return client


@pytest.fixture
def trainer_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.TRAINER))
    return client


# ---------------------------------------------------------------- compliance: policies and holds


def test_a_period_out_of_range_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    form = {"keep": "5000", "unit": "months", "basis": "Laki"}
    refused = post_finnish(officer_client, "/compliance/policies/training", form, token_from="/compliance/")
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "1–36525 päivää tai 1–1200 kuukautta" in text and "between 1 and" not in text


def test_an_applied_change_with_an_overlong_basis_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    form = {"keep": "6", "unit": "months", "basis": "x" * 2001}
    refused = post_finnish(officer_client, "/compliance/policies/training/apply", form, token_from="/compliance/")
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "enintään 2000 merkkiä" in text and "at most 2000 characters" not in text


def test_a_hold_without_a_reason_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    form = {"target": "customer", "value": "CRM-HOLD-1", "reason": " "}
    refused = post_finnish(officer_client, "/compliance/holds", form, token_from="/compliance/holds")
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "kerro syy" in text and "state the reason" not in text
    assert 'value="CRM-HOLD-1"' in refused.get_data(as_text=True)  # what was typed stays


def test_a_release_without_a_reason_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    hold = holds.place_hold(session, actor=OFFICER, reason="riita", customer_ref="CRM-HOLD-2").hold
    session.commit()
    path = f"/compliance/holds/{hold.id}/release"
    refused = post_finnish(officer_client, path, {"reason": ""}, token_from="/compliance/holds")
    text = shown_after(officer_client, refused)
    assert "kerro syy" in text and "state the reason" not in text


# ---------------------------------------------------------------- data-subject requests


def test_a_request_received_before_the_gdpr_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    form = {"customer_ref": "CRM-OLD-1", "kind": "access", "received_on": "2017-01-31"}
    refused = post_finnish(officer_client, "/subjects/", form, token_from="/subjects/?customer_ref=CRM-OLD-1")
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "aikaisintaan 25.5.2018" in text and "GDPR requests date" not in text
    assert 'value="2017-01-31"' in refused.get_data(as_text=True)  # what was typed stays


def test_an_extension_past_two_months_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer(session).customer_ref, kind="access", received_at=NOW
    )
    session.commit()
    path = f"/subjects/{request.id}"
    refused = post_finnish(officer_client, f"{path}/extend", {"months": "3", "reason": "laaja"}, token_from=path)
    text = shown_after(officer_client, refused)
    assert "jatka määräaikaa 1 tai 2 kuukaudella" in text and "1 or 2" not in text


def test_a_rectification_correcting_nothing_is_refused_in_finnish(
    officer_client: FlaskClient, session: Session
) -> None:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer(session).customer_ref, kind="rectification", received_at=NOW
    )
    session.commit()
    path = f"/subjects/{request.id}"
    refused = post_finnish(officer_client, f"{path}/fulfil", {}, token_from=path)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "anna metatietojen tai litteraatin oikaisu" in text and "give metadata" not in text


# ---------------------------------------------------------------- training


def test_an_unreadable_sample_size_names_the_field_in_finnish(trainer_client: FlaskClient) -> None:
    refused = trainer_client.get("/training/?size=abc", headers=FINNISH)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "Otoskoko: anna kokonaisluku" in text and "Input should be" not in text and "size:" not in text


@pytest.mark.parametrize("words", ["%25", "***", "-"])
def test_sample_words_without_a_word_are_refused_in_finnish(trainer_client: FlaskClient, words: str) -> None:
    # Found by exploratory testing: the call list said it in Finnish, the sample form in English.
    refused = trainer_client.get(f"/training/?size=5&words={words}", headers=FINNISH)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "kirjoita vähintään yksi sana" in text and "enter at least one word" not in text


def test_a_sample_size_out_of_range_names_the_field_in_english(trainer_client: FlaskClient) -> None:
    refused = trainer_client.get("/training/?size=0", headers={"Accept-Language": "en"})
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "Sample size: enter a number from 1 to 500" in text and "Input should be" not in text


def test_a_set_without_a_title_is_refused_in_finnish(trainer_client: FlaskClient) -> None:
    refused = post_finnish(trainer_client, "/training/sets/", {"title": " "}, token_from="/training/sets/")
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "anna otsikko" in text and "give the set a title" not in text


def test_a_clip_of_a_call_not_for_training_is_refused_in_finnish(
    trainer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = training_call(session, store, envelope, purposes=["verification"])
    session.commit()
    path = f"/training/calls/{call.id}"
    form = {"start_s": "0", "end_s": "3", "title": "Ei sallittu", "tags": "", "notes": ""}
    refused = post_finnish(trainer_client, f"{path}/clips", form, token_from=path)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 409
    assert "tätä puhelua ei saa käyttää koulutukseen (ei tallennettu koulutusta varten)" in text
    assert "may not be used for training" not in text
