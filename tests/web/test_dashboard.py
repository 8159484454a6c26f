"""The dashboard: backlog counts, failures with re-queue, this week's evaluations, the score trend, and `/`."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.evaluations import scoring, trends
from recordings_service.models import AuditEvent, Recording, TranscriptionJob
from recordings_service.models.account import Role
from recordings_service.models.transcription import JobState
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.queue import enqueue_transcription
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording
from tests.web.reader_language import post_finnish, shown_after


def job_in(session: Session, store: ObjectStore, envelope: Envelope, state: str, **overrides: object) -> Recording:
    recording = make_recording(session, store, envelope, **overrides)
    job = enqueue_transcription(session, recording)
    job.state = state
    if state == JobState.FAILED:
        job.attempts = 5
        job.last_error = "RuntimeError: decoder gave up"
    session.flush()
    return recording


def test_signed_in_staff_land_on_the_dashboard_and_anonymous_on_the_login_page(
    client: FlaskClient, session: Session
) -> None:
    anonymous = client.get("/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login"
    assert "Service status" not in anonymous.get_data(as_text=True)
    login(client, make_user(session, role=Role.TRAINER))
    assert client.get("/").headers["Location"] == "/dashboard"


def test_backlog_failures_and_requeue(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    for state in (JobState.QUEUED, JobState.QUEUED, JobState.RUNNING):
        job_in(session, store, envelope, state)
    failed = job_in(session, store, envelope, JobState.FAILED, queue="moving")
    job_in(session, store, envelope, JobState.FAILED, restricted=True)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    page = client.get("/dashboard").get_data(as_text=True)
    assert "<dt>Queued</dt><dd>2</dd>" in page and "<dt>Running</dt><dd>1</dd>" in page
    assert "<dt>Failed</dt><dd>2</dd>" in page
    assert page.count("RuntimeError: decoder gave up") == 1  # the restricted call's failure is not listed
    action = f"/dashboard/transcriptions/{failed.id}/requeue"
    assert f'action="{action}"' in page

    response = post_form(client, action, {}, token_from="/dashboard")

    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    job = session.scalars(select(TranscriptionJob).where(TranscriptionJob.recording_id == failed.id)).one()
    session.refresh(job)
    assert (job.state, job.attempts, job.last_error) == (JobState.QUEUED, 0, None)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "transcription.requeued")).one()
    assert event.object_id == failed.id
    assert "Transcription queued again." in client.get("/dashboard").get_data(as_text=True)


def test_a_running_job_cannot_be_requeued(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    running = job_in(session, store, envelope, JobState.FAILED)
    job = session.scalars(select(TranscriptionJob).where(TranscriptionJob.recording_id == running.id)).one()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    token_page = client.get("/dashboard")
    assert token_page.status_code == 200
    job.state, job.lease_owner = JobState.RUNNING, "worker-1"
    job.lease_expires_at = job.updated_at.replace(year=job.updated_at.year + 1)
    session.flush()
    post_form(client, f"/dashboard/transcriptions/{running.id}/requeue", {}, token_from="/dashboard")
    assert "being transcribed now" in client.get("/dashboard").get_data(as_text=True)
    # A Finnish reader is told so in Finnish (it was the service's English).
    refused = post_finnish(client, f"/dashboard/transcriptions/{running.id}/requeue", {}, token_from="/dashboard")
    shown = shown_after(client, refused)
    assert "tallennetta litteroidaan parhaillaan" in shown and "being transcribed" not in shown


def test_a_trainer_sees_the_dashboard_without_requeue(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    failed = job_in(session, store, envelope, JobState.FAILED)
    login(client, make_user(session, role=Role.TRAINER))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<dt>Failed</dt><dd>1</dd>" in page and "Re-queue" not in page
    action = f"/dashboard/transcriptions/{failed.id}/requeue"
    assert post_form(client, action, {}, token_from="/dashboard").status_code == 403


def test_evaluations_this_week_and_the_trend(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    evaluator = actor_of(make_user(session))
    form = published_form(session, evaluator)
    recording = make_recording(session, store, envelope)
    # The same evaluator scoring the same call twice makes one evaluation in two versions: counted once, the
    # latest score.
    for values in (["yes", "5", "yes"], ["no", "5", "yes"]):
        scoring.evaluate_call(
            session, actor=evaluator, recording_id=recording.id, form_id=form.id, answers=answers(form, values)
        )
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<dt>Calls evaluated this week</dt><dd>1</dd>" in page
    assert 'role="img"' in page and "<td>75.0</td><td>1</td>" in page


def test_this_week_on_the_dashboard_begins_on_monday_in_the_organisations_time_zone(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by exploratory testing: the dashboard counted weeks in UTC, the trend pages in Europe/Helsinki, so a
    score given on Monday at 00:30 in Helsinki (Sunday 22:30 UTC) was last week's on the dashboard only."""
    evaluator = actor_of(make_user(session))
    form = published_form(session, evaluator)
    helsinki = ZoneInfo("Europe/Helsinki")
    now = utcnow()
    monday = trends.week_began(now, helsinki)
    early_monday = monday + min(timedelta(minutes=30), (now - monday) / 2)
    evaluation = scoring.evaluate_call(
        session,
        actor=evaluator,
        recording_id=make_recording(session, store, envelope).id,
        form_id=form.id,
        answers=answers(form, ["yes", "5", "yes"]),
    )
    evaluation.created_at = evaluation.submitted_at = early_monday
    session.commit()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<dt>Calls evaluated this week</dt><dd>1</dd>" in page
    assert "<td>100.0</td><td>1</td>" in page.split("<tbody>")[1].split("</tr>")[0]  # this week: the first row


def test_dashboard_names_the_model_configured_and_the_one_last_used(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "faster-whisper · whisper-base (bundled, multilingual)" in page
    recording = make_recording(session, store, envelope)
    draft = TranscriptDraft(
        engine="faster-whisper",
        model="whisper-small",
        language="fi",
        detected_language=None,
        segments=[],
        processing_s=1.0,
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    session.commit()
    assert "Latest transcript by faster-whisper · whisper-small" in client.get("/dashboard").get_data(as_text=True)


def test_a_job_whose_worker_stopped_renewing_shows_as_stalled_not_running(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by review: a job whose worker died stayed "running" on the dashboard until another worker took it over;
    with the jobs process down nobody did, and the dashboard showed work in progress forever."""
    live = job_in(session, store, envelope, JobState.RUNNING)
    dead = job_in(session, store, envelope, JobState.RUNNING)
    for recording, lease_left in ((live, timedelta(minutes=2)), (dead, -timedelta(minutes=5))):
        job = session.scalars(select(TranscriptionJob).where(TranscriptionJob.recording_id == recording.id)).one()
        job.lease_expires_at = utcnow() + lease_left
    session.flush()
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    page = client.get("/dashboard").get_data(as_text=True)

    assert "<dt>Running</dt><dd>1</dd>" in page and "<dt>Stalled</dt><dd>1</dd>" in page
    assert "The transcription of 1 call has stopped" in page and "Check that the jobs process runs" in page
