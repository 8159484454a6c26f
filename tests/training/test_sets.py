"""Training sets and their export: a clip whose call the retention sweep deleted leaves a gap shown as removed
(retention); the export's ZIP holds the clips, redacted transcripts without identity codes, card numbers, IBANs
or phone numbers, and an index.html that plays them offline; the download lives 7 days."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Forbidden, NotFound
from recordings_service.models import AuditEvent, Recording
from recordings_service.redaction import find_pii
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training import clips, export, sets
from recordings_service.training.clip_views import ClipStatus, clip_audio, list_clips
from recordings_service.training.clips import ClipText
from recordings_service.training_rules import TrainingRules
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin
from tests.factories.privacy import OFFICER
from tests.factories.recordings import make_recording
from tests.factories.training import stereo_call, trainer

RULES = TrainingRules()
FORBIDDEN_KINDS = {"personal_id", "card", "card_security_code", "iban", "phone"}


def cut(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
    actor: Actor,
    recording: Recording,
    window: tuple[float, float],
    title: str,
) -> Any:
    return clips.cut_clip(
        session,
        store,
        envelope,
        actor=actor,
        recording_id=recording.id,
        start_s=window[0],
        end_s=window[1],
        text=ClipText(title=title, notes="for new agents"),
        rules=RULES,
        ffmpeg=settings.ffmpeg_path(),
        tone=False,
    ).made


def test_the_retention_sweep_removes_a_calls_clips_and_the_set_shows_the_gap(
    session: Session, sessions: sessionmaker[Session], store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor = trainer(session)
    kept = stereo_call(session, store, envelope)
    due = stereo_call(session, store, envelope, retain_until=utcnow() + timedelta(days=1))
    due_clip = cut(session, store, envelope, settings, actor, due, (9.3, 17.3), "Asking for the name")
    kept_clip = cut(session, store, envelope, settings, actor, kept, (0.5, 9.0), "Opening")
    training_set = sets.create_set(
        session, envelope, actor=actor, title="Renewals", clip_ids=[due_clip.id, kept_clip.id], rules=RULES
    ).made
    assert len(list(store.list_versions(f"derived/{due.id}/clips/"))) == 2

    report = sweep(sessions, store, now=utcnow() + timedelta(days=2), batch=10, actor=OFFICER, dry_run=False)

    assert report.recording_ids == [due.id] and report.counts["training_clips"] == 1
    assert list(store.list_versions(f"derived/{due.id}/")) == []
    assert len(list(store.list_versions(f"derived/{kept.id}/clips/"))) == 2
    session.expire_all()
    view = sets.view_set(session, envelope, actor=actor, set_id=training_set.id, rules=RULES)
    assert [(item.status, item.reason) for item in view.items] == [
        (ClipStatus.REMOVED, "retention"),
        (ClipStatus.AVAILABLE, None),
    ]
    gone = view.items[0]
    assert (gone.clip.title, gone.clip.notes, gone.clip.tags, gone.transcript, gone.agent) == ("", "", [], [], None)
    assert [clip.id for clip in list_clips(session, actor=actor)] == [kept_clip.id]
    with pytest.raises(NotFound):
        clip_audio(session, envelope, actor=actor, clip_id=due_clip.id, codec="opus", rules=RULES)


def test_an_export_holds_clips_redacted_transcripts_and_an_offline_player_for_seven_days(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor, colleague = trainer(session), trainer(session)
    call = stereo_call(session, store, envelope)
    card = make_recording(session, store, envelope, audio=CARD_CALL, duration_s=23.69, purposes=["training"])
    add_transcript(session, card, twin=card_twin())
    made = [
        cut(session, store, envelope, settings, actor, call, (3.5, 9.2), "Checking identity"),
        cut(session, store, envelope, settings, actor, call, (14.5, 17.5), "Account details"),
        cut(session, store, envelope, settings, actor, card, (9.0, 21.0), "Card payment"),
    ]
    training_set = sets.create_set(
        session,
        envelope,
        actor=actor,
        title="Handling personal data",
        description="What the customer says <b>stays</b> out.",
        clip_ids=[clip.id for clip in made],
        rules=RULES,
    ).made

    with pytest.raises(NotFound):  # private until shared
        export.export_set(session, actor=colleague, set_id=training_set.id)
    created = export.export_set(session, actor=actor, set_id=training_set.id)
    contents = export.open_export(session, envelope, actor=actor, export_id=created.id, rules=RULES)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export.zip_chunks(store, envelope, contents))))

    assert created.expires_at - created.created_at == timedelta(days=7)
    assert archive.namelist() == [
        *(
            f"{kind}/0{n}.{ext}"
            for n in (1, 2, 3)
            for kind, ext in (("clips", "ogg"), ("clips", "mp3"), ("transcripts", "txt"))
        ),
        "set.json",
        "index.html",
    ]
    assert archive.read("clips/03.ogg")[:4] == b"OggS"
    texts = {name: archive.read(name).decode() for name in archive.namelist() if not name.startswith("clips/")}
    said = "\n".join(texts.values())
    for name, text in texts.items():
        found = {finding.kind.value for finding in find_pii(text, "en")}
        assert not found & FORBIDDEN_KINDS, (name, found)
    assert "[PERSONAL_ID]" in said and "[PHONE]" in said and "[IBAN]" in said and "[CARD]" in said
    assert "131052-308T" not in said and "Virtanen" not in said
    assert call.id not in said and call.agent_ref not in said
    page = texts["index.html"]
    assert 'src="clips/01.ogg"' in page and 'src="clips/03.mp3"' in page and "<b>stays</b>" not in page
    assert "http://" not in page and "https://" not in page  # plays offline
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == training_set.id).order_by(AuditEvent.seq)
    ).all()
    assert actions == ["training.set_created", "training.set_exported", "training.export_downloaded"]
    # Found in review: the download was on the set's trail only; each call's trail names it too.
    downloaded = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "training.clip_downloaded").order_by(AuditEvent.seq)
    ).all()
    exported = [entry.view.clip for entry in contents.entries if entry.view is not None]
    assert len(exported) == 3
    assert [(event.object_type, event.object_id, event.details) for event in downloaded] == [
        ("recording", clip.recording_id, {"clip_id": clip.id, "export_id": created.id}) for clip in exported
    ]

    sets.update_set(session, envelope, actor=actor, set_id=training_set.id, shared=True, rules=RULES)
    assert export.open_export(session, envelope, actor=colleague, export_id=created.id, rules=RULES).entries
    with pytest.raises(Forbidden):
        sets.update_set(session, envelope, actor=colleague, set_id=training_set.id, title="Mine", rules=RULES)
    with pytest.raises(Conflict):
        export.open_export(session, envelope, actor=actor, export_id=created.id, rules=RULES, now=created.expires_at)


def test_a_set_takes_each_clip_once_and_only_available_ones(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    actor = trainer(session)
    call = stereo_call(session, store, envelope)
    first = cut(session, store, envelope, settings, actor, call, (0.5, 3.5), "Greeting")
    second = cut(session, store, envelope, settings, actor, call, (17.7, 23.0), "Closing")
    training_set = sets.create_set(session, envelope, actor=actor, title="Calls", clip_ids=[first.id], rules=RULES).made

    sets.update_set(session, envelope, actor=actor, set_id=training_set.id, clip_ids=[second.id, first.id], rules=RULES)
    assert [item.clip_id for item in training_set.items] == [second.id, first.id]
    assert [item.position for item in training_set.items] == [1, 2]
    with pytest.raises(Exception, match="once"):
        sets.update_set(
            session, envelope, actor=actor, set_id=training_set.id, clip_ids=[first.id, first.id], rules=RULES
        )
    call.purposes = ["verification"]
    session.flush()
    other = sets.create_set(session, envelope, actor=actor, title="Other", rules=RULES).made
    with pytest.raises(Conflict, match="withdrawn"):
        sets.update_set(session, envelope, actor=actor, set_id=other.id, clip_ids=[first.id], rules=RULES)
    sets.update_set(session, envelope, actor=actor, set_id=training_set.id, clip_ids=[first.id], rules=RULES)
    assert [item.clip_id for item in training_set.items] == [first.id]  # a clip already in the set may stay


def test_an_export_dates_its_files_and_page_in_the_organisations_time(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """Found by exploratory testing: the ZIP's files were dated in UTC wall time (a ZIP's dates have no zone:
    unpacked in Helsinki they were two hours early) and its page said "Exported 2026-12-04T04:56:16+00:00"."""
    actor = trainer(session)
    call = stereo_call(session, store, envelope)
    clip = cut(session, store, envelope, settings, actor, call, (3.5, 9.2), "Checking identity")
    training_set = sets.create_set(
        session, envelope, actor=actor, title="Identity", clip_ids=[clip.id], rules=RULES
    ).made
    moment = datetime(2026, 12, 4, 4, 56, 16, tzinfo=UTC)
    created = export.export_set(session, actor=actor, set_id=training_set.id, now=moment)
    contents = export.open_export(session, envelope, actor=actor, export_id=created.id, rules=RULES, now=moment)
    helsinki = ZoneInfo("Europe/Helsinki")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export.zip_chunks(store, envelope, contents, zone=helsinki))))

    assert {info.date_time for info in archive.infolist()} == {(2026, 12, 4, 6, 56, 16)}
    assert "Exported 2026-12-04 06:56 EET." in archive.read("index.html").decode()
    assert json.loads(archive.read("set.json"))["exported_at"] == "2026-12-04T04:56:16+00:00"  # data: UTC
