"""Found by exploratory testing with the session in Finnish: the partner's return-or-destruction form and a
trainer's clip form said why they refused in English ("the package was built on …", "must be a PDF document",
"1 to 200 characters", "the clip must end after it starts"). Each refusal now has a stable code the pages
translate by, where the API's `error` and `message` stay as they were."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.errors import Invalid
from recordings_service.models import ResearchBatch, User
from recordings_service.models.research import BatchState
from recordings_service.research import batches
from recordings_service.research.batches import BatchRequest
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from tests.factories.accounts import csrf_token
from tests.factories.evaluations import actor_of
from tests.factories.research import downloaded, institute, partner
from tests.factories.staff import client_of
from tests.factories.training import trainer as trainer_actor
from tests.factories.training import training_call
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH, post_finnish
from web.ui.error_messages import error_message

BUILT_DAYS_AGO = 3


def built_batch(app: Flask, session: Session, runtime: Runtime, officer: User) -> tuple[ResearchBatch, FlaskClient]:
    """A batch whose package was built three days ago and downloaded, ready for its partner, who is signed in."""
    lab = institute(session).id
    now = utcnow().replace(microsecond=0)
    criteria = BatchCriteria.model_validate({"from": "2026-11-01", "to": "2026-11-30", "sample_size": 10, "seed": 7})
    request = BatchRequest(
        study="Laskututkimus",
        purpose="Miten arviolaskut selitetään",
        institute_id=lab,
        criteria=criteria,
        study_end=(now + timedelta(days=30)).date(),
        access_start=now - timedelta(days=BUILT_DAYS_AGO),
        access_end=now + timedelta(days=2),
    )
    made = batches.create_batch(session, runtime.envelope, actor=actor_of(officer), request=request).made
    made.state, made.built_at = BatchState.READY, now - timedelta(days=BUILT_DAYS_AGO)
    downloaded(session, made)
    session.commit()
    return made, client_of(app, partner(session, lab))


def confirm(
    client: FlaskClient,
    batch: ResearchBatch,
    fields: dict[str, str] | None = None,
    *,
    headers: dict[str, str] = FINNISH,
    certificate: bytes | None = None,
) -> tuple[int, str]:
    """Send the confirmation form, `fields` changed from a valid one; the status and what the answer shows."""
    path = f"/partner/batches/{batch.id}"
    data: dict[str, object] = {
        "method": "destroyed",
        "confirmed_on": utcnow().date().isoformat(),
        "signer": "Tutkija Aalto",
        "title": "Laboratorion johtaja",
        "statement": "Kaikki kopiot poistettiin.",
        **(fields or {}),
        "csrf_token": csrf_token(client, path),
    }
    if certificate is not None:
        data["certificate"] = (io.BytesIO(certificate), "todistus.pdf")
    sent = client.post(f"{path}/confirmation", data=data, content_type="multipart/form-data", headers=headers)
    return sent.status_code, visible_text(sent.get_data(as_text=True))


def test_a_return_dated_before_the_package_was_built_is_refused_in_finnish(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = built_batch(app, session, runtime, officer)
    built = made.built_at
    assert built is not None
    early = (built - timedelta(days=7)).date()
    status, text = confirm(client, made, {"confirmed_on": early.isoformat()})
    assert status == 422
    assert f"paketti koottiin {built.day}.{built.month}.{built.year}: sitä ennen kopioita ei ollut" in text
    assert "the package was built" not in text and "Kaikki kopiot poistettiin." in text


def test_a_return_dated_before_the_package_was_built_is_refused_in_english(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = built_batch(app, session, runtime, officer)
    built = made.built_at
    assert built is not None
    early = (built - timedelta(days=7)).date().isoformat()
    status, text = confirm(client, made, {"confirmed_on": early}, headers=ENGLISH)
    assert status == 422 and "the package was built on" in text and "no copy existed before" in text


def test_a_certificate_that_is_not_a_pdf_is_refused_in_finnish(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = built_batch(app, session, runtime, officer)
    status, text = confirm(client, made, certificate=b"MZ\x90 ei pdf")
    assert status == 422 and "todistuksen on oltava PDF-asiakirja" in text and "must be a PDF" not in text


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"signer": " "}, "anna allekirjoittajan nimi"),
        ({"signer": "n" * 201}, "1–200 merkkiä"),
        ({"title": ""}, "anna allekirjoittajan asema"),
        ({"statement": ""}, "kerro, miten ja missä kopiot palautettiin tai hävitettiin"),
        ({"method": "sold"}, "valitse palautettu tai hävitetty"),
    ],
)
def test_a_confirmation_missing_or_overlong_text_is_refused_in_finnish(
    app: Flask, officer: User, session: Session, runtime: Runtime, fields: dict[str, str], said: str
) -> None:
    made, client = built_batch(app, session, runtime, officer)
    status, text = confirm(client, made, fields)
    assert status == 422 and said in text
    assert "characters" not in text and "returned or destroyed" not in text


def test_a_second_confirmation_while_one_waits_is_refused_in_finnish(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = built_batch(app, session, runtime, officer)
    assert confirm(client, made)[0] == 302
    # The page offers no second form while one waits; a form left open in another tab can still be sent.
    status, text = confirm(client, made)
    assert status == 409  # a conflict, as the API answers it (the page said 422 before 2026-12-07)
    assert "tämän erän vahvistus odottaa jo tietosuojavastaavan päätöstä" in text
    assert "waiting for compliance" not in text


# ---------------------------------------------------------------- clips


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        ("9", "3", "leikkeen on päätyttävä alkunsa jälkeen"),
        ("-1", "3", "leikkeen on alettava aikaisintaan kohdasta 0 s"),
        ("20", "30", "leikkeen on päätyttävä puhelun sisällä (23,3 s)"),
        ("3", "3,5", "leike on vähintään 1 s pitkä"),
    ],
)
def test_a_clip_outside_its_call_is_refused_in_finnish(
    trainer_client: FlaskClient, session: Session, runtime: Runtime, start: str, end: str, said: str
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    session.commit()
    path = f"/training/calls/{call.id}"
    form = {"start_s": start, "end_s": end, "title": "Tervehdys", "tags": "", "notes": ""}
    refused = post_finnish(trainer_client, f"{path}/clips", form, token_from=path)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and said in text
    assert "the clip must" not in text and 'value="Tervehdys"' in refused.get_data(as_text=True)


def test_a_selection_past_the_transcript_is_said_in_finnish(app: Flask, session: Session, runtime: Runtime) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    with pytest.raises(Invalid) as refused:
        clips.selection_window(session, actor=trainer_actor(session), recording_id=call.id, first=3, last=9)
    assert refused.value.message == "segments are numbered 0 to 4, the first before the last"
    with app.test_request_context(headers=FINNISH):
        assert error_message(refused.value) == "jaksot on numeroitu 0–4, ja ensimmäinen on ennen viimeistä"


def test_the_partner_reads_the_study_end_as_a_finnish_date(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = built_batch(app, session, runtime, officer)
    end = made.study_end
    finnish, iso = f"{end.day}.{end.month}.{end.year}", end.isoformat()
    for path in ("/partner/", f"/partner/batches/{made.id}"):
        text = visible_text(client.get(path, headers=FINNISH).get_data(as_text=True))
        assert finnish in text and iso not in text, path
    assert iso in visible_text(client.get("/partner/", headers=ENGLISH).get_data(as_text=True))
