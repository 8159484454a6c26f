"""A calibration session's call id is typed by the organiser: one that names no call they may score is refused
beside its field, the page keeping what was typed, and the API names the field too."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, CalibrationSession, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, make_user, post_form
from tests.factories.evaluations import actor_of, delete_call, published_form
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of

NO_SUCH_CALL = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


@pytest.fixture
def organiser(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="olga")


@pytest.fixture
def form(session: Session, organiser: User) -> EvaluationForm:
    return published_form(session, actor_of(organiser))


@pytest.fixture
def people(session: Session) -> list[User]:
    return [make_user(session, role=Role.QA_SUPERVISOR, username=name) for name in ("anna", "bert")]


def create_page(app: Flask, organiser: User, form: EvaluationForm, people: list[User], recording_id: str) -> str:
    sent = post_form(
        client_of(app, organiser),
        "/calibration/new",
        {
            "recording_id": recording_id,
            "form_id": form.id,
            "title": "Week 49 price talks",
            "participant_ids": [user.id for user in people],  # type: ignore[dict-item]
        },
        token_from="/calibration/new",
    )
    assert sent.status_code == 422, sent.status_code
    return sent.get_data(as_text=True)


def assert_kept_and_named(page: str, people: list[User], recording_id: str) -> None:
    assert "no call with this id was found" in page
    assert 'value="Week 49 price talks"' in page
    assert f'value="{recording_id}" aria-invalid="true"' in page
    for user in people:
        assert f'value="{user.id}" checked' in page


def test_a_mistyped_call_id_is_refused_beside_its_field_keeping_what_was_typed(
    app: Flask, session: Session, organiser: User, form: EvaluationForm, people: list[User]
) -> None:
    page = create_page(app, organiser, form, people, NO_SUCH_CALL)
    assert_kept_and_named(page, people, NO_SUCH_CALL)
    assert session.scalars(select(CalibrationSession)).first() is None


def test_a_deleted_call_is_refused_beside_its_field(
    app: Flask,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    organiser: User,
    form: EvaluationForm,
    people: list[User],
) -> None:
    call = make_recording(session, store, envelope)
    delete_call(session, store, organiser, call, "customer erasure")
    assert_kept_and_named(create_page(app, organiser, form, people, call.id), people, call.id)


def test_a_hidden_call_is_refused_beside_its_field_and_the_refusal_audited(
    app: Flask,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    organiser: User,
    form: EvaluationForm,
    people: list[User],
) -> None:
    restricted: Recording = make_recording(session, store, envelope, restricted=True)
    assert_kept_and_named(create_page(app, organiser, form, people, restricted.id), people, restricted.id)
    refused = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "recording.access_denied", AuditEvent.object_id == restricted.id)
    ).all()
    assert [event.actor_id for event in refused] == [organiser.id]


def test_the_api_names_the_call_id_it_cannot_find(
    app: Flask, organiser: User, form: EvaluationForm, people: list[User]
) -> None:
    client = client_of(app, organiser)
    sent = client.post(
        "/api/v1/calibration-sessions",
        json={"recording_id": NO_SUCH_CALL, "form_id": form.id, "participant_ids": [user.id for user in people]},
        headers={"X-CSRFToken": csrf_token(client, "/calibration/new")},
    )
    assert sent.status_code == 404
    assert sent.get_json()["field"] == "recording_id"
