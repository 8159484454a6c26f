"""Found by exploratory testing with the session in Finnish: refusals of a rectification and of a retention policy
read in English, and a policy previewed with no basis was only refused once applied, after a redirect that reset
the form. Each refusal now carries a stable code the pages translate by (web/ui/error_messages.py), filled with
the values the English message names, while the API's `error` and `message` stay as integrators know them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.errors import DomainError, Invalid, NotFound
from recordings_service.models import RetentionPolicy
from recordings_service.privacy import retention, subjects
from recordings_service.privacy.rectification import SegmentFix, rectify
from recordings_service.runtime import Runtime
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.training import training_call
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH, post_as
from web.ui.error_messages import error_message

NOW = datetime.now(UTC).replace(microsecond=0)


def shown(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, headers: dict[str, str]) -> str:
    """What the answer to a form shows, or the page a redirect went back to."""
    sent = post_as(client, path, data, token_from=token_from, headers=headers)
    if sent.status_code == 302:
        sent = client.get(sent.headers["Location"], headers=headers)
    return visible_text(sent.get_data(as_text=True))


def finnish(app: Flask, exc: DomainError) -> str:
    with app.test_request_context(headers=FINNISH):
        return error_message(exc)


# ---------------------------------------------------------------- rectification


def rectification_of_a_call(session: Session, runtime: Runtime) -> tuple[str, str]:
    """A rectification request and a call of its customer with five transcript segments (0 to 4)."""
    person = customer(session)
    call = training_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=NOW
    )
    session.commit()
    return request.id, call.id


@pytest.mark.parametrize(("headers", "said"), [(FINNISH, "jakson numero väliltä 0–4, kukin kerran"), (ENGLISH, "")])
def test_a_segment_number_past_the_transcript_is_refused_in_the_readers_language(
    officer_client: FlaskClient, session: Session, runtime: Runtime, headers: dict[str, str], said: str
) -> None:
    request_id, call_id = rectification_of_a_call(session, runtime)
    path = f"/subjects/{request_id}"
    form = {"recording_id": call_id, "segment": "99", "text": "mittarilukema on väärin"}
    text = shown(officer_client, f"{path}/fulfil", form, token_from=path, headers=headers)
    assert (said or "a segment number from 0 to 4, once") in text
    if said:
        assert "a segment number from" not in text


def test_a_segment_refusal_keeps_the_apis_code_and_message(app: Flask, session: Session, runtime: Runtime) -> None:
    request_id, call_id = rectification_of_a_call(session, runtime)
    with pytest.raises(Invalid) as refused:
        rectify(
            session,
            actor=OFFICER,
            request_id=request_id,
            recording_id=call_id,
            transcript=[SegmentFix(9, "x")],
            zone=ORG_ZONE,
        )
    exc = refused.value
    assert (exc.field, exc.code, exc.message) == (
        "transcript.0.segment",
        "invalid",
        "a segment number from 0 to 4, once",
    )
    with pytest.raises(Invalid) as blank:
        rectify(
            session,
            actor=OFFICER,
            request_id=request_id,
            recording_id=call_id,
            transcript=[SegmentFix(0, " ")],
            zone=ORG_ZONE,
        )
    assert finnish(app, blank.value) == "oikaistussa tekstissä on oltava 1–5000 merkkiä"


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"language": "suomi!"}, "kielikoodi, kuten fi, sv tai en"),
        ({"queue": "q" * 101}, "teksti, 1–100 merkkiä"),
    ],
)
def test_corrected_metadata_out_of_shape_is_refused_in_finnish(
    officer_client: FlaskClient, session: Session, runtime: Runtime, form: dict[str, str], said: str
) -> None:
    request_id, call_id = rectification_of_a_call(session, runtime)
    path = f"/subjects/{request_id}"
    text = shown(officer_client, f"{path}/fulfil", {"recording_id": call_id, **form}, token_from=path, headers=FINNISH)
    assert said in text and "a language code such" not in text and "text of 1 to" not in text


# ---------------------------------------------------------------- retention policies


def preview(client: FlaskClient, rule: str, form: dict[str, str], *, headers: dict[str, str] = FINNISH) -> str:
    return shown(client, f"/compliance/policies/{rule}", form, token_from="/compliance/", headers=headers)


def test_a_global_maximum_below_the_purposes_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    text = preview(officer_client, "maximum", {"keep": "6", "unit": "months", "basis": "Laki"})
    assert "yleinen enimmäisaika ei voi olla lyhyempi kuin näiden käytäntöjen säilytysaika:" in text
    assert "todentaminen, laatututkimus, koulutus, sopimusta ei tehty" in text
    assert "shorter than" not in text and "quality_study" not in text


def test_a_purpose_kept_past_the_global_maximum_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    text = preview(officer_client, "training", {"keep": "130", "unit": "months", "basis": "Laki"})
    assert "ylittää yleisen enimmäisajan 120 kuukautta" in text and "exceeds the global maximum" not in text


def test_a_purpose_kept_past_the_global_maximum_is_refused_in_english(officer_client: FlaskClient) -> None:
    text = preview(officer_client, "training", {"keep": "130", "unit": "months", "basis": "Law"}, headers=ENGLISH)
    assert "exceeds the global maximum of 120 months" in text


def test_the_policy_refusals_keep_the_apis_codes_and_messages(app: Flask, session: Session) -> None:
    with pytest.raises(Invalid) as below:
        retention.preview_policy_change(session, rule="maximum", keep=6, unit="months", zone=ORG_ZONE)
    assert (below.value.code, below.value.message) == (
        "below_policies",
        "shorter than the verification, quality_study, training, no_agreement policy",
    )
    with pytest.raises(NotFound) as unknown:
        retention.preview_policy_change(session, rule="forever", keep=6, unit="months", zone=ORG_ZONE)
    assert unknown.value.code == "not_found"
    assert finnish(app, unknown.value) == "säilytyskäytäntöä ei löytynyt"


def test_a_preview_without_a_basis_is_refused_with_the_form_as_typed(
    officer_client: FlaskClient, session: Session
) -> None:
    """The preview accepted a blank basis ("0 recordings…"), and applying it was refused after a redirect that
    put the form back to the stored 12 months and basis."""
    refused = post_as(
        officer_client,
        "/compliance/policies/training",
        {"keep": "6", "unit": "days", "basis": "  "},
        token_from="/compliance/",
        headers=FINNISH,
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "kerro säilytysajan peruste" in visible_text(page)
    assert 'value="6"' in page and '<option value="days" selected>' in page
    basis = re.search(r'<textarea[^>]*name="basis"[^>]*>', page)
    assert basis is not None and 'aria-invalid="true"' in basis.group(0)
    assert "Ota käyttöön ja laske" not in page
    session.expire_all()
    assert session.get_one(RetentionPolicy, "training").keep == 12
