"""Trainers (and tokens holding only the redacted permissions) get the redacted twin, never the original text,
the customer, or the original audio; QA supervisors see where redactions are."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Customer, Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.accounts import login, make_user
from tests.factories.audit import events
from tests.factories.recordings import FOR_TRAINING_TOO, derived_known_and_stored, make_recording, make_token
from tests.page_text import visible_text

ACTION = "recording.played_redacted"
CARD = "4539 1488 0343 6467"
# The card's first group as a word of its own: not inside an id (ULIDs are digits and capitals), which may hold it.
CARD_GROUP = re.compile(r"(?<![0-9A-Z])4539(?![0-9A-Z])")
SAID = [
    ("agent", 0.0, "Could I have your card number please?"),
    ("customer", 4.0, f"My card number is {CARD} thanks."),
    ("customer", 12.0, "And my name is Matti Virtanen."),
]


def _segment(speaker: str, start: float, text: str) -> dict[str, Any]:
    words = [
        {"start": start + i * 0.5, "end": start + (i + 1) * 0.5, "text": f" {word}", "probability": 0.9}
        for i, word in enumerate(text.split())
    ]
    return {
        "speaker": speaker,
        "start": start,
        "end": start + len(words) * 0.5,
        "text": "".join(word["text"] for word in words),
        "words": words,
        "avg_logprob": -0.2,
        "no_speech_prob": 0.01,
        "suspect": False,
    }


@pytest.fixture
def call(session: Session, runtime: Runtime) -> Recording:
    customer = Customer(customer_ref="CRM-REDACT-1")
    session.add(customer)
    session.flush()
    recording = make_recording(
        session,
        runtime.store,
        runtime.envelope,
        customer_id=customer.id,
        status="transcribed",
        purposes=FOR_TRAINING_TOO,
    )
    draft = TranscriptDraft(
        engine="faster-whisper",
        model="whisper-base",
        language="en",
        detected_language=None,
        segments=[_segment(*line) for line in SAID],
        processing_s=1.0,
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    session.commit()
    return recording


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_trainers_token_reads_the_redacted_twin_in_the_same_shape(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    token = make_token(session, role=Role.TRAINER, scope="read")
    session.commit()

    body = client.get(f"/api/v1/recordings/{call.id}/transcript", headers=_bearer(token)).get_json()
    text = client.get(f"/api/v1/recordings/{call.id}/transcript?format=txt", headers=_bearer(token)).get_data(True)

    assert body["redacted"] is True
    said = " ".join(segment["text"] for segment in body["segments"])
    assert "[CARD]" in said and "[PERSON]" in said
    assert not CARD_GROUP.search(str(body)) and "Virtanen" not in str(body) and "Virtanen" not in text
    assert set(body["segments"][1]) == {
        "speaker",
        "start",
        "end",
        "text",
        "words",
        "avg_logprob",
        "no_speech_prob",
        "suspect",
    }
    viewed = session.scalars(select(AuditEvent).where(AuditEvent.action == "transcript.viewed")).all()
    assert [event.details["redacted"] for event in viewed] == [True, True]


def test_a_supervisor_reads_the_transcript_without_card_data(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    token = make_token(session, role=Role.QA_SUPERVISOR, scope="read")
    session.commit()

    body = client.get(f"/api/v1/recordings/{call.id}/transcript", headers=_bearer(token)).get_json()

    assert body["redacted"] is False
    assert "Matti Virtanen" in body["segments"][2]["text"]
    assert "[CARD]" in body["segments"][1]["text"] and not CARD_GROUP.search(str(body))


def test_trainers_see_no_customer_and_may_not_filter_by_one(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    trainer = make_token(session, role=Role.TRAINER, scope="read")
    supervisor = make_token(session, role=Role.QA_SUPERVISOR, scope="read")
    session.commit()

    assert client.get(f"/api/v1/recordings/{call.id}", headers=_bearer(trainer)).get_json()["customer_ref"] is None
    assert client.get(f"/api/v1/recordings/{call.id}", headers=_bearer(supervisor)).get_json()["customer_ref"] == (
        "CRM-REDACT-1"
    )
    listed = client.get("/api/v1/recordings", headers=_bearer(trainer)).get_json()["items"]
    searched = client.get("/api/v1/search", headers=_bearer(trainer)).get_json()["items"]
    assert [item["customer_ref"] for item in listed] == [None]
    assert [item["recording"]["customer_ref"] for item in searched] == [None]

    for path in ("/api/v1/recordings", "/api/v1/search"):
        refused = client.get(f"{path}?customer_ref=CRM-REDACT-1", headers=_bearer(trainer))
        assert refused.status_code == 403
    denials = select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "customer")
    assert session.scalar(denials) == 2


def test_a_trainer_opens_the_call_page_redacted_and_never_the_original_audio(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    session.commit()

    page = client.get(f"/calls/{call.id}").get_data(as_text=True)

    assert "[CARD]" in page and "[PERSON]" in page
    assert not CARD_GROUP.search(page) and "Virtanen" not in page and "CRM-REDACT-1" not in page
    assert f"/api/v1/recordings/{call.id}/audio/redacted" in page and "peaks.json" not in page
    assert client.get(f"/api/v1/recordings/{call.id}/audio").status_code == 403


def test_the_supervisors_call_page_lists_where_redactions_are(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()

    page = client.get(f"/calls/{call.id}").get_data(as_text=True)

    assert 'id="redactions"' in page
    redactions = visible_text(page[page.index('id="redactions"') :])
    assert "payment card number" in redactions and "person's name" in redactions  # each kind named, not its code
    assert "Virtanen" in page and not CARD_GROUP.search(page)  # the name is kept for QA, card data nowhere
    assert f'src="/api/v1/recordings/{call.id}/audio?ticket=' in page


def test_a_trainer_plays_the_redacted_audio_in_ranges_audited_once(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    session.commit()
    url = f"/api/v1/recordings/{call.id}/audio/redacted"

    whole = client.get(url)
    seek = client.get(url, headers={"Range": "bytes=1000-1999"})

    assert whole.status_code == 200 and whole.mimetype == "audio/wav" and whole.headers["Cache-Control"] == "no-store"
    assert whole.data[:4] == b"RIFF" and len(whole.data) == int(whole.headers["Content-Length"])
    assert seek.status_code == 206 and seek.data == whole.data[1000:2000]
    played = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "recording.played_redacted", AuditEvent.object_id == call.id)
    ).all()
    assert len(played) == 1


def test_a_suffix_range_of_the_redacted_audio_counts_as_a_listen(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    token = make_token(session, role=Role.TRAINER, scope="read")
    session.commit()
    url = f"/api/v1/recordings/{call.id}/audio/redacted"

    tail = client.get(url, headers={**_bearer(token), "Range": "bytes=-4096"})

    assert tail.status_code == 206 and len(tail.data) == 4096
    played = select(AuditEvent).where(AuditEvent.action == "recording.played_redacted", AuditEvent.object_id == call.id)
    assert len(session.scalars(played).all()) == 1


@pytest.mark.parametrize(
    "headers",
    [{"Range": "bytes=1000-", "If-Range": '"bogus"'}, {"Range": "items=1000-"}],
    ids=["if-range-mismatch", "unknown-unit"],
)
def test_a_range_that_is_ignored_serves_the_whole_redacted_audio_and_counts_as_a_listen(
    client: FlaskClient, session: Session, call: Recording, headers: dict[str, str]
) -> None:
    """RFC 9110 ignores such a Range; the answer then starts at the first byte, as a listen does (found by
    exploratory testing: 206 from byte 1000 under a non-matching If-Range, 416 for an unknown unit)."""
    token = make_token(session, role=Role.TRAINER, scope="read")
    session.commit()
    url = f"/api/v1/recordings/{call.id}/audio/redacted"

    response = client.get(url, headers={**_bearer(token), **headers})

    assert response.status_code == 200 and response.data[:4] == b"RIFF" and "Content-Range" not in response.headers
    assert len(response.data) == int(response.headers["Content-Length"])
    played = select(AuditEvent).where(AuditEvent.action == "recording.played_redacted", AuditEvent.object_id == call.id)
    assert len(session.scalars(played).all()) == 1


def test_a_fetch_past_the_first_byte_of_the_redacted_audio_is_audited_with_the_bytes_it_carried(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    """Found by exploratory testing: only answers starting at byte 0 were audited, so a one-byte probe and then
    `bytes=1-` carried the whole call away recorded as one listen from byte 0, and `bytes=1-` alone unrecorded."""
    token = make_token(session, role=Role.TRAINER, scope="read")
    session.commit()
    url = f"/api/v1/recordings/{call.id}/audio/redacted"

    probe = client.get(url, headers={**_bearer(token), "Range": "bytes=0-0"})
    rest = client.get(url, headers={**_bearer(token), "Range": "bytes=1-"})

    size = int(probe.headers["Content-Range"].rpartition("/")[2])
    assert rest.status_code == 206 and len(rest.data) == size - 1
    served = [(event.details["range_start"], event.details["bytes"]) for event in events(session, ACTION, call.id)]
    assert served == [(0, 1), (1, size - 1)]


def test_a_head_request_for_the_redacted_audio_is_no_listen(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    """A HEAD carries no audio: it is not audited as a listen (it was, found by exploratory testing)."""
    token = make_token(session, role=Role.TRAINER, scope="read")
    session.commit()
    url = f"/api/v1/recordings/{call.id}/audio/redacted"

    probed = client.head(url, headers=_bearer(token))

    assert probed.status_code == 200 and probed.data == b"" and int(probed.headers["Content-Length"]) > 0
    played = select(AuditEvent).where(AuditEvent.action == "recording.played_redacted", AuditEvent.object_id == call.id)
    assert session.scalars(played).all() == []
    assert client.get(url, headers=_bearer(token)).status_code == 200
    assert len(session.scalars(played).all()) == 1


def test_a_head_request_for_the_redacted_audio_stores_no_copy(
    client: FlaskClient, session: Session, runtime: Runtime, call: Recording
) -> None:
    """A HEAD built the redacted copy to learn its size and stored it, while its session, which commits nothing,
    dropped the row naming the copy's version: the retention sweep, which deletes a call's derivatives by those rows,
    left the copy to the proof after it. It is now built, measured and not stored; the GET stores it."""
    token = make_token(session, role=Role.TRAINER, scope="read")
    session.commit()
    url = f"/api/v1/recordings/{call.id}/audio/redacted"
    before = derived_known_and_stored(session, runtime.store, call.id)

    probed = client.head(url, headers=_bearer(token))

    assert probed.status_code == 200 and probed.data == b""
    assert derived_known_and_stored(session, runtime.store, call.id) == before
    got = client.get(url, headers=_bearer(token))
    assert got.status_code == 200 and len(got.data) == int(probed.headers["Content-Length"])
    assert probed.headers["ETag"] == got.headers["ETag"]
    known, stored = derived_known_and_stored(session, runtime.store, call.id)
    assert known == stored and len(stored) == len(before[1]) + 1


def test_the_call_page_shows_the_customers_objections(client: FlaskClient, session: Session, call: Recording) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert "Customer objects to" not in client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert call.customer is not None
    call.customer.objects_to_research = True
    session.commit()

    page = client.get(f"/calls/{call.id}").get_data(as_text=True)

    assert "Customer objects to</dt><dd>research</dd>" in page
