"""The answers of cutting a clip and of cutting it again carry its redacted transcript, which was sent with no event
in the call's trail, while opening the clip, a set showing it, and the answer to a change of its title (PATCH) are
each audited as `training.clip_viewed`. Each answer now reads the clip as opening it does, audited alike."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Transcript
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import seal_segments, segments_of, twin_of
from tests.factories.audit import events
from tests.factories.recordings import make_token
from tests.factories.training import bearer, stereo_call


def test_the_answers_of_a_cut_and_a_recut_carry_the_transcript_audited_as_viewing_the_clip(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    token = make_token(session, role=Role.TRAINER, scope="training")
    body = {"recording_id": call.id, "start_s": 0.5, "end_s": 3.5, "title": "Greeting"}

    cut = client.post("/api/v1/training/clips", headers=bearer(token), json=body)

    assert cut.status_code == 201, cut.get_data(as_text=True)
    clip_id = cut.get_json()["id"]
    assert cut.get_json()["transcript"], "the answer carries the clip's transcript"
    assert [event.details["clip_id"] for event in events(session, "training.clip_viewed", call.id)] == [clip_id]

    # The call's redactions change inside the clip: it is outdated until cut again.
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    twin = twin_of(session, transcript) or []
    twin[0] = {**twin[0], "redactions": [{"kind": "person", "start": 1.0, "end": 1.5, "timed": True}]}
    seal_segments(session, transcript, segments=segments_of(session, transcript), twin=twin)
    session.commit()

    recut = client.post(f"/api/v1/training/clips/{clip_id}/recut", headers=bearer(token))

    assert recut.status_code == 200, recut.get_data(as_text=True)
    assert recut.get_json()["transcript"]
    viewed = [event.details["clip_id"] for event in events(session, "training.clip_viewed", call.id)]
    assert viewed == [clip_id, clip_id]
