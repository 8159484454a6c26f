"""The clip form's start and end as a Finnish trainer types them ("12,5"): the fields were number inputs, which a
browser refuses a decimal comma in (or empties on submit), and a refused form came back with the seconds as typed
into a number input, where a browser drops "12,5". The fields now take a decimal comma or point; a refused form
shows the seconds back in the reader's format (Finnish 12,5, English 12.5), and the page's times read the same
way. The JSON API stays numeric."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import TrainingClip
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.recordings import make_token
from tests.factories.training import bearer, stereo_call

FINNISH = {"Accept-Language": "fi"}


def inputs(html: str) -> dict[str, str]:
    """The start and end inputs' tags by name."""
    return {
        name: re.search(rf'<input id="{name}"[^>]*>', html).group(0)  # type: ignore[union-attr]
        for name in ("start_s", "end_s")
    }


def post(client: FlaskClient, path: str, form: dict[str, str], **headers: str) -> tuple[int, str]:
    data = {"title": "Greeting", "tags": "", "notes": "", **form, "csrf_token": csrf_token(client, path)}
    response = client.post(f"{path}/clips", data=data, headers=headers)
    return response.status_code, response.get_data(as_text=True)


def test_the_clip_form_takes_a_decimal_comma_and_shows_seconds_back_in_the_readers_format(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    path = f"/training/calls/{call.id}"

    for tag in inputs(trainer_client.get(path, headers=FINNISH).get_data(as_text=True)).values():
        assert 'type="number"' not in tag and 'inputmode="decimal"' in tag

    # Refused (the end before the start): the seconds come back as the reader writes them, whichever was typed.
    status, html = post(trainer_client, path, {"start_s": "9.5", "end_s": "2,25"}, **FINNISH)
    assert status == 422
    shown = inputs(html)
    assert 'value="9,5"' in shown["start_s"] and 'value="2,25"' in shown["end_s"]
    status, html = post(trainer_client, path, {"start_s": "9,5", "end_s": "2.25"})
    assert status == 422
    shown = inputs(html)
    assert 'value="9.5"' in shown["start_s"] and 'value="2.25"' in shown["end_s"]
    # What cannot be read as seconds comes back as typed, to correct.
    status, html = post(trainer_client, path, {"start_s": "puoli", "end_s": "4"}, **FINNISH)
    assert status == 422 and 'value="puoli"' in inputs(html)["start_s"]

    status, _ = post(trainer_client, path, {"start_s": "1,5", "end_s": "3,25"}, **FINNISH)
    assert status == 302
    [clip] = session.scalars(select(TrainingClip)).all()
    assert (clip.start_s, clip.end_s) == (1.5, 3.25)
    page = trainer_client.get(path, headers=FINNISH).get_data(as_text=True)
    assert "Greeting (1,5 s – 3,2 s)" in page or "Greeting (1,5 s – 3,3 s)" in page
    english = trainer_client.get(path).get_data(as_text=True)
    assert "Greeting (1.5 s – 3.2 s)" in english or "Greeting (1.5 s – 3.3 s)" in english


def test_the_api_takes_numbers_and_refuses_a_string_with_a_decimal_comma(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    body = {"recording_id": call.id, "title": "Greeting", "start_s": "1,5", "end_s": 3.25}
    refused = client.post("/api/v1/training/clips", headers=trainer, json=body)
    assert refused.status_code == 422 and refused.get_json()["field"] == "start_s"
    made = client.post("/api/v1/training/clips", headers=trainer, json={**body, "start_s": 1.5})
    assert made.status_code == 201 and made.get_json()["start_s"] == 1.5


def test_a_refused_form_with_seconds_too_large_to_format_comes_back_as_typed(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """Shown back in the reader's format, seconds of 10**18 or more ("1e20") made Babel's rounding raise: a 500."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    path = f"/training/calls/{call.id}"

    for name, typed in [("start_s", "1e20"), ("end_s", "123456789012345678901"), ("start_s", "99999999999999999999")]:
        form = {"start_s": "5", "end_s": "5", name: typed}
        status, html = post(trainer_client, path, form, **FINNISH)
        assert status == 422 and f'value="{typed}"' in inputs(html)[name]


def test_a_refused_clip_form_names_the_field_in_the_readers_language(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """It said only "anna aika sekunteina puhelun alusta" ("give the time in seconds"): the start, or the end?"""
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()

    status, html = post(trainer_client, f"/training/calls/{call.id}", {"start_s": "1", "end_s": "loppu"}, **FINNISH)

    assert status == 422
    error = re.search(r'<p class="flash error" role="alert" id="form-error">([^<]*)</p>', html)
    assert error is not None and error.group(1).startswith("Leike päättyy (sekunteina): "), html
    assert 'aria-describedby="form-error"' in inputs(html)["end_s"]
