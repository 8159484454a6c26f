"""Found by a security review: re-queueing a call for transcription threw away a transcript a person had verified
against the audio (even on a call under legal hold, the evidence of a disputed call): the machine's new text
replaced it and the verification was gone. A re-queue is now refused while the transcript, or a segment of it, is
verified: 409 from the API, told on the dashboard in the reader's language."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls.review import verify_transcript
from recordings_service.errors import Conflict
from recordings_service.models import Transcript, TranscriptionJob
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import segments_of
from recordings_service.transcription.queue import claim_next, finish_job, requeue_transcription
from tests.factories.accounts import login, make_user, post_form
from tests.factories.audit import events
from tests.factories.evaluations import actor_of
from tests.factories.reviews import make_transcribed_call
from tests.factories.transcription import leftovers_removed, spoken_draft  # noqa: F401  (a fixture)
from tests.web.reader_language import post_finnish, shown_after

pytestmark = pytest.mark.usefixtures("leftovers_removed")


@pytest.mark.parametrize("segment", [None, 1])
def test_a_verified_transcript_is_not_requeued(session: Session, runtime: Runtime, segment: int | None) -> None:
    call = make_transcribed_call(session, runtime.store, runtime.envelope, legal_hold=True)
    checker = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    verify_transcript(session, actor=checker, recording_id=call.id, segment_index=segment)

    with pytest.raises(Conflict) as refused:
        requeue_transcription(session, actor=checker, recording_id=call.id)

    assert refused.value.why == "transcript_verified"
    assert not session.scalar(select(TranscriptionJob).where(TranscriptionJob.recording_id == call.id))
    assert not events(session, "transcription.requeued", call.id)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    assert (transcript.verified_at is not None) is (segment is None)


def test_the_api_answers_409_and_the_dashboard_says_why_in_english_and_finnish(
    app: Flask, client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = make_transcribed_call(session, runtime.store, runtime.envelope, legal_hold=True)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    verify_transcript(session, actor=actor_of(supervisor), recording_id=call.id, segment_index=None)
    login(client, supervisor)
    session.commit()

    with pytest.MonkeyPatch.context() as patch:  # the app is shared: restored even when the post raises
        patch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # CSRF on session POSTs is tested in test_login.py
        answer = client.post(f"/api/v1/recordings/{call.id}/transcribe")
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"] == "conflict" and "verified against the audio" in body["message"]

    action = f"/dashboard/transcriptions/{call.id}/requeue"
    post_form(client, action, {}, token_from="/dashboard")
    assert "transcribing the call again would replace the verified text" in client.get("/dashboard").get_data(
        as_text=True
    )
    shown = shown_after(client, post_finnish(client, action, {}, token_from="/dashboard"))
    assert "tarkistettu" in shown and "verified" not in shown
    session.expire_all()
    assert session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one().verified_at is not None


def test_a_transcript_verified_while_its_new_transcription_waits_is_kept(session: Session, runtime: Runtime) -> None:
    """Found by a review: verified after the re-queue was accepted (queued or running), the transcript was still
    replaced by the job's draft when it finished, and the verification dropped."""
    call = make_transcribed_call(session, runtime.store, runtime.envelope, legal_hold=True)
    checker = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    requeue_transcription(session, actor=checker, recording_id=call.id)  # not verified yet: accepted
    verify_transcript(session, actor=checker, recording_id=call.id, segment_index=None)
    claimed = claim_next(session, owner="worker", lease_s=600)
    assert claimed is not None and claimed.recording_id == call.id

    finish_job(session, job=claimed, draft=spoken_draft("machine", "text"))

    session.expire_all()
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    assert transcript.verified_at is not None
    assert "machine" not in " ".join(str(segment["text"]) for segment in segments_of(session, transcript))
