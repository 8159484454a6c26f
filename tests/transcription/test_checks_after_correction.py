"""A transcript checked against the audio, then written again: the check stays only while the text it vouched for
does.

Rectification and `callvault redaction refresh` both write a transcript's text through `store_segments`.
"""

from __future__ import annotations

import copy

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.review import transcript_checks, verify_transcript
from recordings_service.models import Transcript
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import segments_of
from recordings_service.transcription.pipeline import store_segments
from tests.factories.accounts import make_user
from tests.factories.reviews import make_transcribed_call


def _checked_call(session: Session, runtime: Runtime) -> Transcript:
    recording = make_transcribed_call(session, runtime.store, runtime.envelope)
    supervisor = make_user(session)
    actor = Actor(id=supervisor.id, name=supervisor.username, role=supervisor.role)
    verify_transcript(session, actor=actor, recording_id=recording.id, segment_index=None)
    verify_transcript(session, actor=actor, recording_id=recording.id, segment_index=0)
    return session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()


def test_a_corrected_segment_voids_the_whole_transcript_check(session: Session, runtime: Runtime) -> None:
    transcript = _checked_call(session, runtime)
    segments = copy.deepcopy(segments_of(session, transcript))
    segments[1] = {**segments[1], "text": "What the customer really said.", "words": [], "corrected": True}
    store_segments(session, transcript, segments)
    whole, by_segment = transcript_checks(session, transcript)
    assert whole is None
    assert (transcript.verified_by, transcript.verified_at) == (None, None)
    assert list(by_segment) == [0]  # the segment that did not change keeps its own check


def test_writing_the_same_text_again_keeps_the_check(session: Session, runtime: Runtime) -> None:
    transcript = _checked_call(session, runtime)
    store_segments(session, transcript, segments_of(session, transcript))
    whole, by_segment = transcript_checks(session, transcript)
    assert whole is not None and list(by_segment) == [0]
