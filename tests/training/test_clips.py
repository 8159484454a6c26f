"""Clips: cut from the redacted audio (silent where a card number was said), stored encrypted under the call's
`derived/` prefix, with the redacted transcript over the clip; outdated when the redactions change, withdrawn
when the call may no longer be used for training."""

from __future__ import annotations

import functools
import math
import subprocess
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound
from recordings_service.models import AuditEvent, Customer, Recording, Transcript
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training import clip_views, clips, sets
from recordings_service.training.clip_views import ClipStatus, clip_transcript
from recordings_service.training.clips import ClipOutdated, ClipText
from recordings_service.training.eligibility import NotForTraining
from recordings_service.training_rules import TrainingRules
from recordings_service.transcript_text import seal_segments, segments_of
from tests.factories.card_call import CARD_CALL, CARD_SPAN, add_transcript, card_twin, rms_dbfs
from tests.factories.recordings import derived_known_and_stored, make_recording
from tests.factories.training import trainer

RULES = TrainingRules()
RATE = 8000
WINDOW = (9.0, 21.0)  # the customer's turn with the card number and the security code


def card_call(session: Session, store: S3ObjectStore, envelope: Envelope, **overrides: Any) -> Recording:
    values = {"duration_s": 23.69, "purposes": ["training"], **overrides}
    recording = make_recording(session, store, envelope, audio=CARD_CALL, **values)
    add_transcript(session, recording, twin=card_twin())
    return recording


def cut(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
    actor: Actor,
    recording: Recording,
    window: tuple[float, float] = WINDOW,
) -> Any:
    return clips.cut_clip(
        session,
        store,
        envelope,
        actor=actor,
        recording_id=recording.id,
        start_s=window[0],
        end_s=window[1],
        text=ClipText(title="Taking a card payment", tags=("payments", "payments", " "), notes="listen to the pause"),
        rules=RULES,
        ffmpeg=settings.ffmpeg_path(),
        tone=False,
    ).made


def played(session: Session, store: S3ObjectStore, envelope: Envelope, actor: Actor, clip_id: str, codec: str) -> bytes:
    audio = clip_views.clip_audio(session, envelope, actor=actor, clip_id=clip_id, codec=codec, rules=RULES)
    clip_views.record_clip_served(
        session, actor=actor, audio=audio, clip_id=clip_id, codec=codec, start=0, stop=audio.size
    )
    return b"".join(clip_views.clip_bytes(store, envelope, audio, start=0, stop=audio.size))


def decoded(audio: bytes, *, ffmpeg: str) -> npt.NDArray[np.int16]:
    """Any clip as 8 kHz stereo 16-bit frames."""
    result = subprocess.run(
        [ffmpeg, "-v", "error", "-i", "pipe:0", "-ac", "2", "-ar", str(RATE), "-f", "s16le", "pipe:1"],
        input=audio,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(result.stdout, dtype="<i2").reshape(-1, 2)


def span(start_s: float, end_s: float) -> slice:
    """Frames of a span given in call time, in a clip starting at WINDOW[0]."""
    return slice(math.floor((start_s - WINDOW[0]) * RATE), math.ceil((end_s - WINDOW[0]) * RATE))


def test_a_clip_of_a_call_with_a_spoken_card_number_is_silent_over_that_span(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor = trainer(session)
    recording = card_call(session, store, envelope)

    clip = cut(session, store, envelope, settings, actor, recording)

    assert (clip.opus_key, clip.mp3_key) == (
        f"derived/{recording.id}/clips/{clip.id}.ogg",
        f"derived/{recording.id}/clips/{clip.id}.mp3",
    )
    assert clip.muted_spans == [[11.57, 17.45], [18.93, 20.33]]
    assert (clip.tags, clip.notes) == (["payments"], "listen to the pause")
    ffmpeg = settings.ffmpeg_path()
    for codec, magic in (("opus", b"OggS"), ("mp3", b"")):
        audio = played(session, store, envelope, actor, clip.id, codec)
        stored = store.get(clip.opus_key if codec == "opus" else clip.mp3_key).read()
        assert audio.startswith(magic) and stored[:64] not in audio  # encrypted at rest
        samples = decoded(audio, ffmpeg=ffmpeg)
        assert abs(len(samples) / RATE - (WINDOW[1] - WINDOW[0])) < 0.1
        assert rms_dbfs(samples[span(10.2, 11.4), 1]) > -40  # "my card number is": the customer speaks
        for channel in (0, 1):
            level = rms_dbfs(samples[span(*CARD_SPAN), channel])
            print(f"{codec}: card number span, channel {channel}: {level} dBFS")
            assert level < -55
    view = clip_views.view_clip(session, envelope, actor=actor, clip_id=clip.id, rules=RULES)
    said = " ".join(line["text"] for line in view.transcript)
    assert view.status is ClipStatus.AVAILABLE and "[CARD]" in said and not any(ch.isdigit() for ch in said)
    assert view.transcript[0]["start"] == 0.52 and view.transcript[-1]["end"] == 12.0
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == recording.id).order_by(AuditEvent.seq)
    ).all()
    assert actions == ["training.clip_cut", "training.clip_played", "training.clip_played", "training.clip_viewed"]


def test_a_clip_is_outdated_when_its_calls_redactions_change_until_it_is_cut_again(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor = trainer(session)
    recording = card_call(session, store, envelope)
    clip = cut(session, store, envelope, settings, actor, recording, window=(0.0, 9.0))
    assert clip.muted_spans == []
    recut = functools.partial(
        clips.recut_clip, session, store, envelope, clip_id=clip.id, rules=RULES, ffmpeg=settings.ffmpeg_path()
    )
    # Found by exploratory testing: a current clip was cut again (re-encoded, audited) by any trainer who asked.
    with pytest.raises(Conflict):
        recut(actor=trainer(session), tone=False)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    twin = card_twin()
    twin[1] = {**twin[1], "redactions": [{"kind": "person", "start": 5.0, "end": 5.5, "timed": True}]}
    seal_segments(session, transcript, segments=segments_of(session, transcript), twin=twin)
    session.flush()

    assert clip_views.view_clip(session, envelope, actor=actor, clip_id=clip.id, rules=RULES).status is (
        ClipStatus.OUTDATED
    )
    with pytest.raises(ClipOutdated):
        played(session, store, envelope, actor, clip.id, "opus")
    recut(actor=trainer(session), tone=False)  # any trainer: nobody can play it as it is

    assert clip.muted_spans == [[4.75, 5.75]]
    samples = decoded(played(session, store, envelope, actor, clip.id, "opus"), ffmpeg=settings.ffmpeg_path())
    assert rms_dbfs(samples[round(4.8 * RATE) : round(5.7 * RATE)]) < -55
    assert len(list(store.list_versions(clip.opus_key))) == 1  # the stale cut is gone, every version of it
    known, stored = derived_known_and_stored(session, store, recording.id)
    assert known == stored and len(stored) == 3  # redacted audio and both codecs: no stale version named


def test_calls_trainers_may_not_use_give_no_clips_and_withdraw_the_ones_cut(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor, other = trainer(session), trainer(session)
    customer = Customer(customer_ref="cust-clips-objects")
    session.add(customer)
    session.flush()
    recording = card_call(session, store, envelope, customer_id=customer.id)
    clip = cut(session, store, envelope, settings, actor, recording, window=(0.0, 3.0))
    verification = card_call(session, store, envelope, purposes=["verification"])

    with pytest.raises(NotForTraining) as refused:
        cut(session, store, envelope, settings, actor, verification)
    customer.objects_to_marketing = True
    session.flush()

    assert refused.value.reason == "no_training_purpose"
    view = clip_views.view_clip(session, envelope, actor=actor, clip_id=clip.id, rules=RULES)
    assert (view.status, view.reason, view.transcript, view.agent) == (
        ClipStatus.WITHDRAWN,
        "objects_to_marketing",
        [],
        None,
    )
    with pytest.raises(NotForTraining):
        played(session, store, envelope, actor, clip.id, "mp3")
    with pytest.raises(Forbidden):
        clips.update_clip(session, actor=other, clip_id=clip.id, title="mine now")
    keys = clips.delete_clip(session, actor=actor, clip_id=clip.id)
    assert clips.purge_clip_objects(store, keys) == 2
    assert list(store.list_versions(f"derived/{recording.id}/clips/")) == []


def test_a_clip_transcript_keeps_the_spaces_between_words() -> None:
    """Stored word timings carry bare words (the pipeline strips them): the clip's line must not run them together."""
    words = [
        {"start": 0.0, "end": 0.4, "text": "to"},
        {"start": 0.4, "end": 0.8, "text": "pay"},
        {"start": 0.8, "end": 1.2, "text": " my"},
        {"start": 5.0, "end": 5.4, "text": "later"},
    ]
    segment = {"speaker": "customer", "start": 0.0, "end": 5.4, "text": "to pay my ... later", "words": words}
    [line] = clip_transcript([segment], start_s=0.0, end_s=2.0)
    assert line["text"] == "to pay my"


def test_a_clip_past_the_end_of_a_short_call_is_refused_as_such() -> None:
    """Found by exploratory testing: 1 s to 999 s of a 23.7 s call was refused as "a clip is at most 600 s long",
    which sent the trainer to shorten the clip to 600 s, still past the end of the call."""
    short = Recording(duration_s=23.7)
    with pytest.raises(Invalid) as refused:
        clips.check_window(short, start_s=1.0, end_s=999.0)
    assert refused.value.why == "clip_past_call" and "within the call (23.7 s)" in str(refused.value)
    long_call = Recording(duration_s=3600.0)
    with pytest.raises(Invalid) as refused:
        clips.check_window(long_call, start_s=1.0, end_s=999.0)
    assert refused.value.code == "too_long"


@pytest.mark.parametrize("redactions_changed", [False, True])
def test_a_clip_deleted_by_its_author_is_not_cut_again(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, redactions_changed: bool
) -> None:
    """A clip its author deleted stays in other trainers' sets as `removed`, its audio gone; nobody may cut it again
    (found by exploratory testing: once the call's redactions changed, any trainer's recut wrote the deleted clip's
    audio back into the store and answered 200, and before that it answered 409 "already follows its call's current
    redactions" as if the clip were there to play)."""
    author, other = trainer(session), trainer(session)
    recording = card_call(session, store, envelope)
    clip = clips.cut_clip(
        session,
        store,
        envelope,
        actor=author,
        recording_id=recording.id,
        start_s=0.0,
        end_s=9.0,
        text=ClipText(title="Greeting"),
        rules=RULES,
        ffmpeg=settings.ffmpeg_path(),
        tone=False,
    ).made
    sets.create_set(session, envelope, actor=other, title="Greetings", clip_ids=[clip.id], rules=RULES)
    clips.purge_clip_objects(store, clips.delete_clip(session, actor=author, clip_id=clip.id))
    assert clip.removed_reason == clips.DELETED_BY_OWNER
    if redactions_changed:
        transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
        twin = card_twin()
        twin[1] = {**twin[1], "redactions": [{"kind": "person", "start": 5.0, "end": 5.5, "timed": True}]}
        seal_segments(session, transcript, segments=segments_of(session, transcript), twin=twin)
        session.flush()

    with pytest.raises(NotFound) as refused:
        clips.recut_clip(
            session,
            store,
            envelope,
            actor=other,
            clip_id=clip.id,
            rules=RULES,
            ffmpeg=settings.ffmpeg_path(),
            tone=False,
        )

    assert refused.value.why == "clip_removed"
    assert not list(store.list_versions(clip.opus_key)) and not list(store.list_versions(clip.mp3_key))
    recut = select(AuditEvent).where(AuditEvent.action == "training.clip_recut")
    assert session.scalars(recut).first() is None
