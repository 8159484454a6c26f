"""`callvault redaction refresh` writes a clip's tags one per key, as an edit does (`clip_tags.one_per_key`): it
merged them by exact text, so two tags that redaction made one in all but letter case ("billing ABC-12345" and
"Billing ABC-67890", both now "… [CUSTOMER_NUMBER]") stayed two, which no edit could store. Tags redaction leaves as
they are stay as stored: a clip saved before tags were one per key keeps "Äiti" and "äiti"."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs.redaction import refresh_redactions
from recordings_service.models import AuditEvent, TrainingClip
from recordings_service.runtime import Runtime
from tests.factories.privacy import OFFICER
from tests.factories.recordings import make_recording

PATTERN = r"ABC-\d{5}"


def saved_before(session: Session, recording_id: str, tags: list[str]) -> TrainingClip:
    keys = {"opus_key": "derived/x/clips/c.opus", "opus_size": 1, "mp3_key": "derived/x/clips/c.mp3", "mp3_size": 1}
    clip = TrainingClip(recording_id=recording_id, start_s=0.0, end_s=5.0, title="Opening", tags=tags, **keys)
    session.add(clip)
    return clip


def test_tags_redaction_makes_one_in_all_but_case_are_one_and_others_stay_as_stored(
    session: Session, runtime: Runtime
) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope, language="en")
    numbers = saved_before(session, recording.id, ["billing ABC-12345", "Billing ABC-67890", "calm"])
    spellings = saved_before(session, recording.id, ["Äiti", "äiti", "calm"])
    both = saved_before(session, recording.id, ["Äiti", "äiti", "billing ABC-12345"])
    session.commit()
    since = session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))

    refresh_redactions(runtime, actor=OFFICER, customer_number_pattern=PATTERN)

    session.expire_all()
    assert session.get_one(TrainingClip, numbers.id).tags == ["billing [CUSTOMER_NUMBER]", "calm"]
    assert session.get_one(TrainingClip, spellings.id).tags == ["Äiti", "äiti", "calm"]
    # Tags the refresh rewrites are written whole by the one rule, as the trainer's own edit of them would be.
    assert session.get_one(TrainingClip, both.id).tags == ["Äiti", "billing [CUSTOMER_NUMBER]"]
    refreshed = session.scalars(
        select(AuditEvent).where(AuditEvent.seq > since, AuditEvent.action == "training.text_redaction_refreshed")
    ).all()
    mine = {event.details.get("clip_id"): event.details["fields"] for event in refreshed}
    assert {clip_id: mine.get(clip_id) for clip_id in (numbers.id, spellings.id, both.id)} == {
        numbers.id: ["tags"],
        spellings.id: None,
        both.id: ["tags"],
    }
