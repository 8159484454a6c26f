"""A clip's words read as the call's transcript reads them, in the API, on the set player and in the export; and a
clip too short to listen to is refused. Both found by exploratory testing."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from tests.factories.accounts import csrf_token
from tests.factories.recordings import make_token
from tests.factories.training import TRUST, stereo_call

PRICE = "The price is 8.9 cents per kilowatt-hour."
AGREED = "So 8.9 it is."


def timed(speaker: str, start: float, end: float, text: str, pieces: list[str]) -> dict[str, Any]:
    step = (end - start) / len(pieces)
    words = [
        {"start": round(start + k * step, 3), "end": round(start + (k + 1) * step, 3), "text": piece}
        for k, piece in enumerate(pieces)
    ]
    return {"speaker": speaker, "start": start, "end": end, "text": text, "words": words, **TRUST}


# Whisper's own pieces carry their leading space, and one without continues the word before it ("8" + ".9"); the
# pipeline keeps them stripped (engines.py), so the second segment's pieces no longer say which continue.
WHISPER_PIECES = [" The", " price", " is", " 8", ".9", " cents", " per", " kilowatt", "-hour."]
SEGMENTS = [
    timed("agent", 9.3, 12.3, " " + PRICE, WHISPER_PIECES),
    timed("customer", 12.8, 14.8, AGREED, ["So", "8", ".9", "it", "is."]),
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_clips_transcript_keeps_words_whisper_split_whole_in_the_api_the_player_and_the_export(
    client: FlaskClient, trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """The clip read "8 .9 cents per kilowatt -hour" where the call's transcript reads "8.9 cents per kilowatt-hour"."""
    call = stereo_call(session, runtime.store, runtime.envelope, timed=SEGMENTS)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    def cut(title: str, start_s: float, end_s: float) -> Any:
        body = {"recording_id": call.id, "title": title, "start_s": start_s, "end_s": end_s}
        response = client.post("/api/v1/training/clips", headers=trainer, json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    whole = cut("The price", 9.0, 15.0)
    from_the_number = cut("From the number", 10.3, 12.3)  # " 8" is said from 10.3 s
    expected = [("agent", PRICE), ("customer", AGREED)]
    assert [(line["speaker"], line["text"]) for line in whole["transcript"]] == expected
    assert [line["text"] for line in from_the_number["transcript"]] == ["8.9 cents per kilowatt-hour."]
    read = client.get(f"/api/v1/training/clips/{whole['id']}", headers=trainer).get_json()
    assert [(line["speaker"], line["text"]) for line in read["transcript"]] == expected

    clip_ids = [whole["id"], from_the_number["id"]]
    # Shared: the page is read by a signed-in trainer, the token's is another.
    body = {"title": "Prices", "clip_ids": clip_ids, "shared": True}
    made = client.post("/api/v1/training/sets", headers=trainer, json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    set_id = made.get_json()["id"]
    player = trainer_client.get(f"/training/sets/{set_id}")
    assert player.status_code == 200
    page = player.get_data(as_text=True)
    assert PRICE in page and AGREED in page and "8 .9" not in page and "kilowatt -hour" not in page

    exported = client.post(f"/api/v1/training/sets/{set_id}/exports", headers=trainer).get_json()
    archive = zipfile.ZipFile(io.BytesIO(client.get(exported["download"], headers=trainer).data))
    first, second = (archive.read(f"transcripts/0{n}.txt").decode() for n in (1, 2))
    assert f"Agent: {PRICE}\n" in first and f"Customer: {AGREED}\n" in first
    assert "Agent: 8.9 cents per kilowatt-hour.\n" in second
    assert not any(" .9" in text or " -hour" in text for text in (first, second))


def test_a_clip_shorter_than_a_second_is_refused_naming_its_end(
    client: FlaskClient, trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """A 0.0001 s clip was cut (201, duration 0.0, a 121-byte Opus file with nothing to hear)."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    body = {"recording_id": call.id, "start_s": 1, "end_s": 1.0001, "title": "tiny"}
    refused = client.post("/api/v1/training/clips", headers=trainer, json=body)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.get_json()["field"] == "end_s"
    assert refused.get_json()["error"] == "too_short"
    shortest = {**body, "end_s": 1 + clips.MIN_CLIP_S}
    assert client.post("/api/v1/training/clips", headers=trainer, json=shortest).status_code == 201

    path = f"/training/calls/{call.id}"
    form = {"start_s": "1", "end_s": "1.0001", "title": "tiny", "tags": "", "notes": ""}
    page = trainer_client.post(f"{path}/clips", data={**form, "csrf_token": csrf_token(trainer_client, path)})
    assert page.status_code == 422 and "at least 1 s" in page.get_data(as_text=True)
