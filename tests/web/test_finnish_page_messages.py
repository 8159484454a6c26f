"""Found by exploratory testing: English left on Finnish pages. A bulk assignment's due date, a duration typed as
"inf", a list's mistyped page link (it spoke of an API) and the dashboard's bundled model and transcript time now
read in Finnish; an HTML error page says a domain error in the reader's language while the API's JSON body keeps
the service's own words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Assignment, Transcript
from recordings_service.models.account import Role
from recordings_service.models.training import NominationKind
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.assignments import make_plan
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.factories.reviews import make_transcribed_call
from tests.page_text import visible_text
from tests.web.reader_language import FINNISH, post_as, shown_after


def test_a_bulk_assignment_due_in_the_past_or_too_far_ahead_is_refused_in_finnish(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope)
    assignee = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    data = {"csrf_token": csrf_token(client, "/calls/"), "page_id": [call.id], "all_on_page": "1"}
    for due, said in (
        (date.today() - timedelta(days=3), "määräpäivä on jo mennyt"),
        (date.today() + timedelta(days=400), "määräpäivä voi olla enintään vuoden päässä"),
    ):
        form = {**data, "assignee_id": assignee.id, "due": due.isoformat()}
        sent = client.post("/calls/assign", data=form, headers=FINNISH)
        text = shown_after(client, sent)
        assert said in text and "due date" not in text
    assert session.scalars(select(Assignment)).all() == []


def test_a_duration_typed_as_inf_on_the_training_sample_is_refused_in_finnish(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    for field in ("min_duration_s", "max_duration_s"):
        page = client.get(f"/training/?size=5&mode=random&{field}=inf", headers=FINNISH)
        text = visible_text(page.get_data(as_text=True))
        assert page.status_code == 422
        assert "anna sekuntimäärä, joka on vähintään 0" in text and "finite" not in text


def test_a_mistyped_page_link_of_the_evaluations_list_reads_in_finnish_and_the_api_keeps_its_words(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/evaluations/?cursor=abc", headers=FINNISH)
    text = visible_text(page.get_data(as_text=True))
    assert page.status_code == 422
    assert "Linkki luettelon seuraavalle sivulle ei kelpaa" in text
    assert "handed out" not in text and "cursor" not in text
    english = visible_text(client.get("/evaluations/?cursor=abc").get_data(as_text=True))
    assert "start again from the first page" in english and "handed out" not in english
    api = client.get("/evaluations/?cursor=abc", headers={"Accept": "application/json", **FINNISH})
    assert (api.status_code, api.get_json()) == (
        422,
        {"error": "invalid_cursor", "message": "not a cursor this API handed out", "field": "cursor"},
    )


def test_the_dashboard_names_the_bundled_model_and_the_latest_transcript_time_in_finnish(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript

    recording = make_recording(session, store, envelope)
    draft = TranscriptDraft(
        engine="faster-whisper",
        model="whisper-base",
        language="fi",
        detected_language=None,
        segments=[],
        processing_s=1,
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    # 17:21 UTC on a winter day is 19:21 in Helsinki, the organisation's time zone by default.
    transcript.created_at = datetime(2026, 12, 3, 17, 21, tzinfo=UTC)
    session.commit()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    text = visible_text(client.get("/dashboard", headers=FINNISH).get_data(as_text=True))
    assert "(mukana toimitettu, monikielinen)" in text and "bundled" not in text
    latest = text.split("Määritetty malli:")[1]
    assert "19.21" in latest and "17:21" not in latest and "UTC" not in latest


def test_a_nomination_note_too_long_and_withdrawing_anothers_nomination_are_refused_in_finnish(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    """The call page's nomination refusals showed the service's English message (or its plain code)."""
    from recordings_service.training import nominations

    call = make_transcribed_call(session, store, envelope, redacted=True, purposes=["training"])
    other = make_user(session, role=Role.QA_SUPERVISOR)
    theirs = nominations.nominate(
        session,
        actor=actor_of(other),
        recording_id=call.id,
        kind=NominationKind.GOOD_EXAMPLE,
        note="",
        rules=TrainingRules(),
    )
    session.commit()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    path = f"/calls/{call.id}"
    long_note = {"kind": "good_example", "note": "x" * (nominations.MAX_NOTE + 1)}
    refused = post_as(client, f"{path}/nominations", long_note, token_from=path, headers=FINNISH)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and f"enintään {nominations.MAX_NOTE} merkkiä" in text
    withdraw = {"nomination_id": theirs.id}
    text = shown_after(
        client, post_as(client, f"{path}/nominations/withdraw", withdraw, token_from=path, headers=FINNISH)
    )
    assert "only the supervisor who made a nomination" not in text


def test_filling_a_plan_none_of_whose_supervisors_may_evaluate_is_refused_in_finnish(
    client: FlaskClient, session: Session
) -> None:
    lead, gone = make_user(session, role=Role.QA_SUPERVISOR), make_user(session, role=Role.QA_SUPERVISOR)
    plan = make_plan(session, actor_of(lead), supervisors=[gone])
    gone.active = False
    session.commit()
    login(client, lead)
    sent = post_as(client, f"/assignments/plans/{plan.id}/fill", {}, token_from="/assignments", headers=FINNISH)
    text = shown_after(client, sent)
    assert "yksikään suunnitelman laadunvalvojista ei voi nyt arvioida puheluita" in text
    assert "has no supervisor" not in text
