"""Redacted audio: findings muted (or toned) on both channels, sample-exact elsewhere, encrypted, cached."""

from __future__ import annotations

import io
import time
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.errors import NotFound
from recordings_service.models import AuditEvent, Recording
from recordings_service.redaction import audio as redaction_audio
from recordings_service.redaction.audio import (
    PAD_S,
    RedactedAudio,
    TranscriptRequired,
    redacted_audio,
    redacted_bytes,
    spans_to_mute,
)
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcript_text import seal_segments, segments_of
from tests.factories.card_call import (
    CARD_CALL,
    CARD_SPAN,
    CUSTOMER_TURN,
    SECURITY_CODE_SPAN,
    add_transcript,
    card_twin,
    decode,
    frames,
    outside,
    rms_dbfs,
)
from tests.factories.recordings import TEST_ACTOR, make_recording

TRAINER = Actor(id=None, name="trainer-test", role="trainer")
PADDED = [(CARD_SPAN[0] - PAD_S, CARD_SPAN[1] + PAD_S), (SECURITY_CODE_SPAN[0] - PAD_S, SECURITY_CODE_SPAN[1] + PAD_S)]


def card_recording(session: Session, store: S3ObjectStore, envelope: Envelope, **overrides: object) -> Recording:
    return make_recording(session, store, envelope, audio=CARD_CALL, duration_s=23.69, **overrides)


def build(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
    recording: Recording,
    **options: object,
) -> RedactedAudio:
    return redacted_audio(
        session,
        store,
        envelope,
        actor=TRAINER,
        recording_id=recording.id,
        ffmpeg=settings.ffmpeg_path(),
        tone=bool(options.get("tone", False)),
        range_start=options.get("range_start"),  # type: ignore[arg-type]
    )


def plaintext(store: S3ObjectStore, envelope: Envelope, audio: RedactedAudio) -> bytes:
    return b"".join(redacted_bytes(store, envelope, audio, start=0, stop=audio.size))


def test_spans_are_padded_clamped_merged_and_filtered_by_kind() -> None:
    twin = card_twin()
    twin[0]["redactions"] = [{"kind": "person", "start": 0.1, "end": 0.5, "timed": True}]
    assert spans_to_mute(twin) == [(0.0, 0.75), (11.57, 17.45), (18.93, 20.33)]
    assert spans_to_mute(twin, kinds={"card"}) == [(11.57, 17.45)]
    assert spans_to_mute(twin, kinds={"card", "card_security_code"}, pad_s=1.0) == [(10.82, 21.08)]
    assert spans_to_mute(twin, kinds={"card_security_code"}, duration_s=20.0) == [(18.93, 20.0)]
    assert spans_to_mute(card_twin(timed=False)) == [(CUSTOMER_TURN[0] - PAD_S, CUSTOMER_TURN[1] + PAD_S)]
    assert spans_to_mute([{"text": "no redactions key"}]) == []


def test_redacted_audio_is_silent_over_each_padded_span_and_sample_exact_elsewhere(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope)
    add_transcript(session, recording, twin=card_twin())
    started = time.monotonic()
    audio = build(session, store, envelope, settings, recording)
    built_s = time.monotonic() - started
    redacted = plaintext(store, envelope, audio)
    original, muted = decode(CARD_CALL, ffmpeg=settings.ffmpeg_path()), decode(redacted, ffmpeg=settings.ffmpeg_path())
    print(f"redacted audio of a {recording.duration_s:.1f} s call built in {built_s:.2f} s")

    assert audio.key == f"derived/{recording.id}/redacted.wav"
    assert audio.media_type == "audio/wav" and audio.size == len(redacted)
    assert list(audio.spans) == PADDED
    assert muted.shape == original.shape
    for span in PADDED:
        assert rms_dbfs(original[frames(span), 1]) > -40  # the customer speaks there
        for channel in (0, 1):
            level = rms_dbfs(muted[frames(span), channel])
            print(f"span {span[0]:.2f}-{span[1]:.2f} s, channel {channel}: {level} dBFS")
            assert level < -60
    kept = outside(len(original), PADDED)
    assert np.array_equal(muted[kept], original[kept])


def test_the_derivative_is_encrypted_in_the_store_and_cached(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = card_recording(session, store, envelope)
    add_transcript(session, recording, twin=card_twin())
    first = build(session, store, envelope, settings, recording)
    redacted = plaintext(store, envelope, first)
    body = store.get(first.key)
    stored = body.read()
    body.close()
    assert redacted[:4] == b"RIFF" and b"RIFF" not in stored and redacted[4096:8192] not in stored
    assert [info.key for info in store.list(f"derived/{recording.id}/")] == [first.key]

    def no_rebuild(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the cached copy was rebuilt")

    monkeypatch.setattr(redaction_audio, "mute_spans", no_rebuild)
    again = build(session, store, envelope, settings, recording)
    assert again.size == first.size and plaintext(store, envelope, again) == redacted
    build(session, store, envelope, settings, recording, range_start=4096)  # a seek is not another listen
    played = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.object_id == recording.id, AuditEvent.action == "recording.played_redacted")
    )
    assert played == 2


def test_destroying_the_recordings_key_makes_a_saved_copy_unreadable(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope)
    add_transcript(session, recording, twin=card_twin())
    audio = build(session, store, envelope, settings, recording)
    body = store.get(audio.key)
    saved = body.read()
    body.close()
    assert b"wrapped" not in saved[:512]  # the header carries no key of its own

    recording.wrapped_data_key = b""  # crypto-shredding, as deletion does
    store.put(audio.key, io.BytesIO(saved))  # e.g. restored from a backup

    with pytest.raises(DecryptionFailed):
        plaintext(store, envelope, audio)


def test_a_changed_twin_or_setting_rebuilds_the_copy(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope)
    transcript = add_transcript(session, recording, twin=card_twin())
    first = plaintext(store, envelope, build(session, store, envelope, settings, recording))
    twin = card_twin()
    twin[3]["redactions"] = twin[3]["redactions"][:1]  # a correction: the security code was not one
    seal_segments(session, transcript, segments=segments_of(session, transcript), twin=twin)
    session.flush()
    corrected = plaintext(store, envelope, build(session, store, envelope, settings, recording))
    original = decode(CARD_CALL, ffmpeg=settings.ffmpeg_path())
    assert corrected != first
    assert np.array_equal(
        decode(corrected, ffmpeg=settings.ffmpeg_path())[frames(PADDED[1])], original[frames(PADDED[1])]
    )
    toned = build(session, store, envelope, settings, recording, tone=True)
    assert plaintext(store, envelope, toned) != corrected


def test_untimed_redactions_mute_their_whole_segment(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope)
    add_transcript(session, recording, twin=card_twin(timed=False))
    muted = decode(
        plaintext(store, envelope, build(session, store, envelope, settings, recording)), ffmpeg=settings.ffmpeg_path()
    )
    whole = (CUSTOMER_TURN[0] - PAD_S, CUSTOMER_TURN[1] + PAD_S)
    assert max(rms_dbfs(muted[frames(whole), channel]) for channel in (0, 1)) < -60
    original = decode(CARD_CALL, ffmpeg=settings.ffmpeg_path())
    kept = outside(len(original), [whole])
    assert np.array_equal(muted[kept], original[kept])


def test_the_tone_setting_covers_each_span_with_a_1_khz_tone(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope)
    add_transcript(session, recording, twin=card_twin())
    toned = decode(
        plaintext(store, envelope, build(session, store, envelope, settings, recording, tone=True)),
        ffmpeg=settings.ffmpeg_path(),
    )
    for channel in (0, 1):
        span = toned[frames(PADDED[0]), channel].astype(np.float64)
        assert -21 < rms_dbfs(toned[frames(PADDED[0]), channel]) < -19
        spectrum = np.abs(np.fft.rfft(span))
        assert np.fft.rfftfreq(len(span), 1 / 8000)[int(np.argmax(spectrum))] == pytest.approx(1000, abs=2)


def test_redacted_audio_needs_the_transcript_first(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope)
    with pytest.raises(TranscriptRequired, match="needs the transcript first"):
        build(session, store, envelope, settings, recording)
    add_transcript(session, recording, twin=None)  # a transcript saved before its twin existed
    with pytest.raises(TranscriptRequired):
        build(session, store, envelope, settings, recording)
    assert list(store.list(f"derived/{recording.id}/")) == []


def test_a_recording_hidden_from_the_actor_is_not_found(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    recording = card_recording(session, store, envelope, restricted=True)
    add_transcript(session, recording, twin=card_twin())
    with pytest.raises(NotFound):
        build(session, store, envelope, settings, recording)
    assert redacted_audio(
        session,
        store,
        envelope,
        actor=replace(TEST_ACTOR, role="compliance"),
        recording_id=recording.id,
        ffmpeg=settings.ffmpeg_path(),
        tone=False,
    ).size


@pytest.mark.parametrize(("value", "ok"), [("mute", True), ("tone", True), ("beep", False)])
def test_the_redaction_audio_setting_takes_mute_or_tone(tmp_path: object, value: str, ok: bool) -> None:
    environ = {"CALLVAULT_DATA_DIR": str(tmp_path), "CALLVAULT_REDACTION_AUDIO": value}
    if ok:
        assert Settings.from_env(environ).redaction_audio == value
    else:
        with pytest.raises(ValueError, match="CALLVAULT_REDACTION_AUDIO must be mute or tone"):
            Settings.from_env(environ)
    assert Settings.from_env({**environ, "CALLVAULT_REDACTION_AUDIO": "mute"}).pci_replace_original is True
