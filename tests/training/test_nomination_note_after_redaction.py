"""A nomination's note within its limit as typed, but longer once redaction put its placeholders in (an identity
code's 11 characters become `[PERSONAL_ID]`'s 13): the length was checked on the note as typed, so the note was
stored over the limit, on SQLite and PostgreSQL alike (the column is Text). It is now refused as a clip's text is
(422 naming the note, why too_long_after_redaction, saying by how much; never cut short), and the call page's
form comes back with the note as it was typed."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.models import Nomination
from recordings_service.models.account import Role
from recordings_service.models.training import NominationKind
from recordings_service.runtime import Runtime
from recordings_service.training import nominations
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import csrf_token, make_user, post_form
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.factories.training import bearer, stereo_call

IDENTITY_CODE = "131052-308T"  # 11 characters, redacted as [PERSONAL_ID] (13)


def padded(text: str, length: int) -> str:
    return text + " " + "x" * (length - len(text) - 1)


FULL_NOTE = padded(f"The caller read {IDENTITY_CODE} aloud", nominations.MAX_NOTE)  # 2000 typed, 2002 redacted


def stored_notes(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Nomination)) or 0


def test_a_note_that_fits_as_typed_but_not_once_redacted_is_refused_saying_why(
    session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    assert len(FULL_NOTE) == nominations.MAX_NOTE

    def nominate(note: str) -> Nomination:
        return nominations.nominate(
            session,
            actor=supervisor,
            recording_id=call.id,
            kind=NominationKind.GOOD_EXAMPLE,
            note=note,
            rules=TrainingRules(),
        )

    with pytest.raises(Invalid) as refused:
        nominate(FULL_NOTE)
    error = refused.value
    assert (error.field, error.code, error.why) == ("note", "too_long", "too_long_after_redaction")
    assert dict(error.values) == {"length": 2002, "max": nominations.MAX_NOTE}
    assert "personal data" in error.message and "2 characters" in error.message
    assert stored_notes(session) == 0
    # One too long as typed is refused as before, without talk of placeholders.
    with pytest.raises(Invalid) as typed_too_long:
        nominate("y" * (nominations.MAX_NOTE + 1))
    assert (typed_too_long.value.field, typed_too_long.value.why) == ("note", "nomination_note_too_long")
    # One at the limit once redacted is kept whole.
    kept = nominate(padded(f"The caller read {IDENTITY_CODE} aloud", nominations.MAX_NOTE - 2))
    session.flush()
    assert len(kept.note) == nominations.MAX_NOTE and "[PERSONAL_ID]" in kept.note and kept.note.endswith("x")


def test_the_api_refuses_it_naming_the_note(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    qa = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="training"))

    body = {"recording_id": call.id, "kind": "good_example", "note": FULL_NOTE}
    refused = client.post("/api/v1/training/nominations", headers=qa, json=body)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    answer = refused.get_json()
    assert (answer["field"], answer["error"]) == ("note", "too_long")
    assert "personal data" in answer["message"] and "2002" in answer["message"]
    assert stored_notes(session) == 0


def test_the_call_page_keeps_the_note_as_typed(app: Flask, session: Session, runtime: Runtime) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    session.commit()
    qa = client_of(app, supervisor)
    path = f"/calls/{call.id}"

    form = {"kind": "good_example", "start_s": "", "end_s": "", "note": FULL_NOTE}
    refused = post_form(qa, f"{path}/nominations", form, token_from=path)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f">{FULL_NOTE}</textarea>" in html  # the note as typed, identity code and all, to shorten
    assert 'aria-invalid="true" aria-describedby="nomination-error"' in html
    assert "2 characters too long" in html
    finnish = qa.post(
        f"{path}/nominations",
        data={**form, "csrf_token": csrf_token(qa, path)},
        headers={"Accept-Language": "fi"},
    )
    assert finnish.status_code == 422
    assert "2 merkkiä liian pitkä, kun henkilötiedot on korvattu" in finnish.get_data(as_text=True)
    assert stored_notes(session) == 0
