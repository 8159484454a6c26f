"""The ingest use case against the real store and both databases."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audio.probe import UnsupportedAudio
from recordings_service.calls import ingest
from recordings_service.config import Settings
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import AuditEvent, Customer, Recording, TranscriptionJob
from recordings_service.originals import original_sha256
from recordings_service.privacy.holds import place_hold
from recordings_service.privacy.retention import change_policy
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.spool import file_sha256
from tests.factories.privacy import ORG_ZONE
from tests.factories.recordings import MONO, STEREO, TEST_ACTOR, call_metadata, ingest_file
from tests.factories.wav import wav_header

# Start dates whose retention has not ended on any day the suite runs: a call past it is refused.
THIS_YEAR = datetime.now(UTC).year
LAST_YEAR = THIS_YEAR - 1


def originals(store: S3ObjectStore) -> set[str]:
    return {info.key for info in store.list("originals/")}


def test_ingest_stores_encrypted_original_row_job_and_audit(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    started = datetime(THIS_YEAR, 1, 1, tzinfo=UTC)
    result = ingest_file(session, store, envelope, settings, started_at=started.isoformat())
    recording = result.recording
    assert result.created
    assert (recording.codec, recording.container, recording.sample_rate, recording.channels) == (
        "pcm_mulaw",
        "wav",
        8000,
        2,
    )
    assert recording.duration_s == pytest.approx(23.68, abs=0.01)
    assert recording.sha256 == file_sha256(STEREO)
    assert recording.size_bytes == STEREO.stat().st_size
    now = datetime.now(UTC)
    assert recording.storage_key == f"originals/{now:%Y}/{now:%m}/{recording.id}"
    # The row keeps the one version the put made: the retention sweep deletes it without a listing.
    assert [version.version_id for version in store.list_versions(recording.storage_key)] == [
        recording.storage_version_id
    ]
    assert recording.agent_channel == "left"
    assert recording.purposes == ["verification"]
    # Verification without an agreement made: the no-agreement policy, 12 months (the policy table's default).
    assert recording.retain_until == datetime(THIS_YEAR + 1, 1, 1, tzinfo=UTC)
    # Encrypted at rest: the stored bytes are not the file, yet decrypt to exactly it.
    assert store.get(recording.storage_key).read(64) != STEREO.read_bytes()[:64]
    assert original_sha256(store, envelope, recording) == recording.sha256
    assert session.scalar(select(TranscriptionJob).where(TranscriptionJob.recording_id == recording.id))
    event = session.scalar(select(AuditEvent).where(AuditEvent.object_id == recording.id))
    assert event is not None and event.action == "recording.ingested"


def test_same_call_same_bytes_is_a_no_op_and_different_bytes_conflict(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    first = ingest_file(session, store, envelope, settings, external_call_id="dup-1")
    again = ingest_file(session, store, envelope, settings, external_call_id="dup-1")
    assert not again.created and again.recording.id == first.recording.id
    with pytest.raises(Conflict):
        ingest_file(
            session, store, envelope, settings, MONO, external_call_id="dup-1", channel_layout="mono", agent_channel=...
        )
    assert session.scalar(select(func.count()).select_from(Recording).where(Recording.external_call_id == "dup-1")) == 1


def test_lost_race_returns_the_winner_and_deletes_its_own_object(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = ingest_file(session, store, envelope, settings, external_call_id="race-1")
    before = originals(store)
    # The loser checked before the winner's row existed: it uploads, then its insert hits the constraint.
    answers = iter([None, winner.recording])
    monkeypatch.setattr(ingest, "_existing", lambda *_args: next(answers))
    loser = ingest_file(session, store, envelope, settings, external_call_id="race-1")
    assert not loser.created and loser.recording.id == winner.recording.id
    assert originals(store) == before


def test_customer_is_upserted_by_reference(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    one = ingest_file(session, store, envelope, settings, customer_ref="cust-shared")
    two = ingest_file(session, store, envelope, settings, customer_ref="cust-shared")
    assert one.recording.customer_id == two.recording.customer_id
    assert session.scalar(select(func.count()).select_from(Customer).where(Customer.customer_ref == "cust-shared")) == 1


def test_purposes_default_per_queue_and_retention_follows_the_longest(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    configured = replace(settings, queue_purposes="support=quality_study+training;sales=verification")
    started = datetime(THIS_YEAR, 1, 1, tzinfo=UTC)
    result = ingest_file(session, store, envelope, configured, queue="support", started_at=started.isoformat())
    assert result.recording.purposes == ["quality_study", "training"]
    assert result.recording.retain_until == datetime(THIS_YEAR + 1, 1, 1, tzinfo=UTC)
    explicit = ingest_file(session, store, envelope, configured, queue="support", purposes=["verification"])
    assert explicit.recording.purposes == ["verification"]


def test_retention_follows_the_policy_table(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    started = datetime(LAST_YEAR, 1, 31, tzinfo=UTC)
    agreed = ingest_file(session, store, envelope, settings, started_at=started.isoformat(), agreement_made=True)
    assert agreed.recording.retain_until == datetime(LAST_YEAR + 3, 1, 31, tzinfo=UTC)  # verification: 36 months
    change_policy(
        session, actor=TEST_ACTOR, rule="verification", keep=48, unit="months", basis="Longer claims.", zone=ORG_ZONE
    )
    later = ingest_file(session, store, envelope, settings, started_at=started.isoformat(), agreement_made=True)
    assert later.recording.retain_until == datetime(LAST_YEAR + 4, 1, 31, tzinfo=UTC)


def test_a_call_past_its_retention_is_refused_unless_its_customer_is_on_hold(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """Found by exploratory testing: a call whose retention had already ended was taken in, and the next sweep
    deleted it; the sender never learnt. Now it is refused naming `started_at`, and nothing of it is kept."""
    before = originals(store)
    two_years_ago = (datetime.now(UTC) - timedelta(days=730)).isoformat()
    ref = "cust-past-" + uuid.uuid4().hex[:8]
    with pytest.raises(Invalid) as refused:
        ingest_file(session, store, envelope, settings, started_at=two_years_ago, customer_ref=ref)
    assert (refused.value.field, refused.value.code) == ("started_at", "past_retention")
    assert "retention ended on" in refused.value.message
    # Found by a backfill pass: it said "(purposes verification)" for a call kept 12 months as no agreement was made.
    assert "(purposes verification, no_agreement 12 months)" in refused.value.message
    assert originals(store) == before
    assert session.scalar(select(Customer).where(Customer.customer_ref == ref)) is None
    # Still within the verification period (36 months where an agreement was made): taken in.
    agreed = ingest_file(session, store, envelope, settings, started_at=two_years_ago, agreement_made=True)
    assert agreed.created

    # A hold on the customer (a dispute about an old call) keeps it whatever its age.
    place_hold(session, actor=TEST_ACTOR, reason="claim about an old call", customer_ref=ref)
    held = ingest_file(session, store, envelope, settings, started_at=two_years_ago, customer_ref=ref)
    assert held.created and held.recording.legal_hold


def test_a_start_with_no_utc_equivalent_is_refused_naming_it(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """Found by exploratory testing: 0001-01-01T00:00:00+02:00 (a .NET DateTime.MinValue in local time) falls in
    year 0 in UTC; refused as past retention, unless the customer was on hold: then storing it overflowed (a 500)."""
    ref = "cust-min-" + uuid.uuid4().hex[:8]
    place_hold(session, actor=TEST_ACTOR, reason="claim about an old call", customer_ref=ref)
    with pytest.raises(Invalid) as refused:
        ingest_file(session, store, envelope, settings, started_at="0001-01-01T00:00:00+02:00", customer_ref=ref)
    assert (refused.value.field, refused.value.code) == ("started_at", "out_of_range")


def test_failure_after_upload_removes_the_object(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = originals(store)

    def broken_insert(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingest, "_insert", broken_insert)
    with pytest.raises(RuntimeError):
        ingest_file(session, store, envelope, settings)
    assert originals(store) == before


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"colour": "red"}, "colour", "unknown_field"),
        ({"notice_given": "yes"}, "notice_given", "wrong_type"),
        ({"started_at": "2026-01-01T10:00:00"}, "started_at", "timezone_required"),
        ({"started_at": "yesterday"}, "started_at", "invalid_datetime"),
        ({"started_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "started_at", "in_future"),
        ({"direction": "sideways"}, "direction", "invalid_choice"),
        ({"language": "de"}, "language", "invalid_choice"),
        ({"agent_channel": ...}, "agent_channel", "agent_channel_required"),
        ({"channel_layout": "mono"}, "agent_channel", "agent_channel_unexpected"),
        ({"purposes": ["marketing"]}, "purposes.0", "invalid_choice"),
        ({"purposes": []}, "purposes", "invalid_length"),
        ({"source": ""}, "source", "invalid_length"),
        ({"purposes": ["training", "training"]}, "purposes", "duplicate"),
        ({"queue": ...}, "queue", "missing"),
        ({"queue": 7}, "queue", "wrong_type"),
        # Found by exploratory testing: an id of spaces alone was accepted as a call's.
        ({"external_call_id": "   "}, "external_call_id", "blank"),
    ],
)
def test_metadata_refusals_name_field_and_code(overrides: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        ingest.parse_metadata(json.dumps(call_metadata(**overrides)))
    assert (refused.value.field, refused.value.code) == (field, code)


def test_every_invalid_metadata_field_is_reported_at_once() -> None:
    raw = json.dumps(call_metadata(colour="red", direction="sideways", queue=7))
    with pytest.raises(Invalid) as refused:
        ingest.parse_metadata(raw)
    every = {(each.field, each.code) for each in refused.value.errors}
    assert every == {("colour", "unknown_field"), ("direction", "invalid_choice"), ("queue", "wrong_type")}
    first = refused.value.errors[0]
    assert (refused.value.field, refused.value.code, refused.value.message) == (first.field, first.code, first.message)


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"x" * (ingest.MAX_METADATA_BYTES + 1)])
def test_metadata_that_is_not_an_object_is_refused_as_a_whole(raw: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        ingest.parse_metadata(raw)
    assert refused.value.field == "metadata"


def test_metadata_saved_with_a_byte_order_mark_is_read() -> None:
    """Found by exploratory testing: a sidecar saved by Notepad or PowerShell (UTF-8 with a byte order mark) was
    refused as invalid JSON at line 1 column 1, though it looked right in any editor."""
    document = json.dumps(call_metadata(queue="billing"))
    assert ingest.parse_metadata(b"\xef\xbb\xbf" + document.encode()).queue == "billing"
    assert ingest.parse_metadata("\ufeff" + document).queue == "billing"


def test_stereo_layout_on_a_mono_file_is_refused_before_upload(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    before = originals(store)
    with pytest.raises(Invalid) as refused:
        ingest_file(session, store, envelope, settings, MONO)
    assert (refused.value.field, refused.value.code) == ("channel_layout", "layout_mismatch")
    assert originals(store) == before


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00" + bytes(4000),  # an executable, not audio
        wav_header(channels=2, rate=8000, data_bytes=8_000_000) + bytes(3200),  # header lies about length
        wav_header(channels=6, rate=8000, data_bytes=96_000) + bytes(96_000),  # too many channels
    ],
    ids=["not-audio", "truncated", "six-channels"],
)
def test_hostile_audio_is_refused_and_nothing_stored(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings, tmp_path: Path, content: bytes
) -> None:
    hostile = tmp_path / "hostile.wav"
    hostile.write_bytes(content)
    before = originals(store)
    with pytest.raises(UnsupportedAudio) as refused:
        ingest_file(session, store, envelope, settings, hostile, external_call_id="hostile")
    assert (refused.value.field, refused.value.code) == ("audio", "unsupported_audio")
    assert originals(store) == before
    assert session.scalar(select(Recording).where(Recording.external_call_id == "hostile")) is None


def test_too_long_audio_is_refused_by_the_duration_limit(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    with pytest.raises(UnsupportedAudio) as refused:
        ingest_file(session, store, envelope, replace(settings, max_audio_duration_s=10.0))
    assert "exceeds the limit" in refused.value.message


def test_missing_object_is_reported_as_not_found(store: S3ObjectStore) -> None:
    with pytest.raises(NotFound):
        store.get("originals/none")


@pytest.mark.parametrize(
    ("started_at", "said"),
    [
        # Found by a backfill pass: "Input should have timezone info" gave the sender no example of what to send.
        ("2026-01-01T10:00:00", "give an ISO 8601 date and time with its offset: 2026-03-01T09:30:00+02:00"),
        # And the future's refusal did not say the tolerance, nor where to look.
        ((datetime.now(UTC) + timedelta(days=1)).isoformat(), "more than 5 minutes ahead of this server's clock"),
    ],
    ids=["no_offset", "in_future"],  # a time as the id differs between pytest-xdist's workers
)
def test_a_start_time_refused_says_what_to_send(started_at: str, said: str) -> None:
    with pytest.raises(Invalid) as refused:
        ingest.parse_metadata(json.dumps(call_metadata(started_at=started_at)))
    assert said in refused.value.message
