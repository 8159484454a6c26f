"""`callvault redaction refresh` redacts again what people wrote for trainers, not only the transcripts: before,
a set titled "Callbacks to 040 123 4567" before set titles were redacted (d236503), or a clip's note naming a
customer number that a `CALLVAULT_CUSTOMER_NUMBER_PATTERN` set later matches, stayed as written in every shared
set and export, whatever refresh was run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.redaction import refresh_redactions
from recordings_service.models import AuditEvent, Nomination, TrainingClip, TrainingExport, TrainingSet
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from tests.factories.privacy import OFFICER
from tests.factories.recordings import make_recording

CUSTOMER_NUMBER = "ABC-12345"
PATTERN = r"ABC-\d{5}"
IDENTITY_CODE = "131052-308T"  # 11 characters, redacted as [PERSONAL_ID] (13)


def clip_row(recording_id: str, **text: object) -> TrainingClip:
    keys = {"opus_key": "derived/x/clips/c.opus", "opus_size": 1, "mp3_key": "derived/x/clips/c.mp3", "mp3_size": 1}
    return TrainingClip(recording_id=recording_id, start_s=0.0, end_s=5.0, **keys, **text)


def written_by_an_older_release(session: Session, runtime: Runtime) -> dict[str, str]:
    """Trainers' texts as stored before the detectors (or the customer-number rule) that now find their data."""
    recording = make_recording(session, runtime.store, runtime.envelope, agent_ref="agent-1", language="en")
    nomination = Nomination(recording_id=recording.id, kind="good_example", note=f"Customer {CUSTOMER_NUMBER} calm")
    clip = clip_row(
        recording.id,
        title="agent-1 handles a complaint",
        tags=[CUSTOMER_NUMBER, "billing", "ABC-67890"],
        notes="she said: my name is Liisa Mäkinen",
    )
    long_clip = clip_row(recording.id, title=f"read {IDENTITY_CODE} " + "x" * (clips.MAX_TITLE - 17))
    removed = clip_row(recording.id, title="", removed_at=datetime.now(UTC), removed_reason="deleted_by_owner")
    training_set = TrainingSet(title="Callbacks to 040 123 4567", description="nimeni on Liisa Mäkinen")
    session.add_all([nomination, clip, long_clip, removed, training_set])
    session.flush()
    export = TrainingExport(
        set_id=training_set.id,
        title=training_set.title,
        clip_ids=[clip.id],
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    session.add(export)
    session.commit()
    return {
        "nomination": nomination.id,
        "clip": clip.id,
        "long_clip": long_clip.id,
        "set": training_set.id,
        "export": export.id,
        "recording": recording.id,
    }


def refresh(runtime: Runtime, *, dry_run: bool = False) -> tuple[int, int]:
    report = refresh_redactions(runtime, actor=OFFICER, customer_number_pattern=PATTERN, dry_run=dry_run)
    return report.texts_checked, report.texts_changed


def test_every_text_written_for_trainers_is_redacted_again_and_audited_without_its_text(
    session: Session, runtime: Runtime
) -> None:
    ids = written_by_an_older_release(session, runtime)

    assert refresh(runtime, dry_run=True) == (5, 5)  # the removed clip has no text left; each other row changes
    session.expire_all()
    assert session.get_one(TrainingSet, ids["set"]).title == "Callbacks to 040 123 4567"  # a dry run writes nothing

    assert refresh(runtime) == (5, 5)
    session.expire_all()
    assert session.get_one(Nomination, ids["nomination"]).note == "Customer [CUSTOMER_NUMBER] calm"
    clip = session.get_one(TrainingClip, ids["clip"])
    assert clip.title == "[PERSON] handles a complaint"  # the agent's ref, as cutting the clip now redacts it
    assert clip.tags == ["[CUSTOMER_NUMBER]", "billing"]  # two numbers, one placeholder: no tag twice
    assert clip.notes == "she said: my name is [PERSON]"
    training_set = session.get_one(TrainingSet, ids["set"])
    assert (training_set.title, training_set.description) == ("Callbacks to [PHONE]", "nimeni on [PERSON]")
    assert session.get_one(TrainingExport, ids["export"]).title == "Callbacks to [PHONE]"
    # A title the placeholder made longer than its column holds is cut, not kept with the code in it.
    long_title = session.get_one(TrainingClip, ids["long_clip"]).title
    assert long_title.startswith("read [PERSONAL_ID] ") and long_title.endswith("…")
    assert len(long_title) == clips.MAX_TITLE

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "training.text_redaction_refreshed").order_by(AuditEvent.seq)
    ).all()
    by_row = {
        event.details.get("clip_id") or event.details.get("export_id") or event.object_id: event for event in events
    }
    assert len(events) == 5 and set(by_row) == {
        ids["recording"],
        ids["clip"],
        ids["long_clip"],
        ids["set"],
        ids["export"],
    }
    assert by_row[ids["recording"]].details == {"nomination_id": ids["nomination"], "fields": ["note"], "shortened": []}
    assert by_row[ids["clip"]].details == {
        "clip_id": ids["clip"],
        "fields": ["notes", "tags", "title"],
        "shortened": [],
    }
    assert by_row[ids["clip"]].object_id == ids["recording"]  # in the call's trail, as the clip's other events
    assert by_row[ids["long_clip"]].details["shortened"] == ["title"]
    assert (by_row[ids["export"]].object_type, by_row[ids["export"]].object_id) == ("training_set", ids["set"])
    assert by_row[ids["set"]].details == {"fields": ["description", "title"], "shortened": []}
    said = json.dumps([event.details for event in events])
    assert not any(value in said for value in ("Liisa", CUSTOMER_NUMBER, "ABC-67890", "040 123 4567", IDENTITY_CODE))

    assert refresh(runtime) == (5, 0)  # nothing left to change
