"""A broken download resumes where it stopped: the original's download, the redacted audio and a training clip
carry a strong ETag, a Range under If-Range with that tag gets the rest (206), and once the bytes have changed
(the original muted for card data, a clip cut again) the old tag gets the whole new body (200), never a splice
of two bodies. The original's download is named with its container's extension."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service.models import Recording, TrainingClip, Transcript
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from recordings_service.training.clips import ClipText
from recordings_service.training_rules import TrainingRules
from recordings_service.transcript_text import seal_segments, segments_of
from tests.factories.audit import events
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin, secure
from tests.factories.recordings import FOR_TRAINING_TOO, STEREO, make_recording, make_token
from tests.factories.training import trainer

ORIGINAL = STEREO.read_bytes()
BROKE_AT = 20_000  # where the first transfer stopped
Get = Callable[..., TestResponse]


def client_of(client: FlaskClient, session: Session, role: str, scope: str = "read") -> Get:
    """`get(url, method="GET", **headers)` as a token of `role`."""
    auth = {"Authorization": f"Bearer {make_token(session, role=role, scope=scope)}"}

    def get(url: str, method: str = "GET", **headers: str) -> TestResponse:
        return client.open(url, method=method, headers={**auth, **headers})

    return get


def tag_of(response: TestResponse) -> str:
    """The response's entity tag, which must be a strong one (If-Range matches only those)."""
    tag = response.headers.get("ETag")
    assert tag is not None and tag.startswith('"') and tag.endswith('"'), tag
    return tag


def assert_resumes(get: Get, url: str, whole: TestResponse, *, at: int = BROKE_AT) -> TestResponse:
    """Resume `whole`'s download at byte `at` as a download manager does: the rest, which completes it."""
    rest = get(url, Range=f"bytes={at}-", **{"If-Range": tag_of(whole)})
    size = len(whole.data)
    assert rest.status_code == 206, rest.get_data(as_text=True)
    assert rest.headers["Content-Range"] == f"bytes {at}-{size - 1}/{size}"
    assert rest.data == whole.data[at:] and whole.data[:at] + rest.data == whole.data
    assert tag_of(rest) == tag_of(whole) and rest.headers["Cache-Control"] == "no-store"
    return rest


def assert_whole_again(get: Get, url: str, stale: str, *, at: int = BROKE_AT) -> TestResponse:
    """A resume under a tag of bytes no longer served gets the whole body as it is now."""
    again = get(url, Range=f"bytes={at}-", **{"If-Range": stale})
    assert again.status_code == 200 and "Content-Range" not in again.headers
    assert len(again.data) == int(again.headers["Content-Length"]) and tag_of(again) != stale
    return again


@pytest.fixture
def call(session: Session, runtime: Runtime) -> Recording:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=STEREO)
    session.commit()
    return recording


def test_a_broken_download_of_the_original_resumes_with_the_rest_of_it(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    get = client_of(client, session, Role.QA_SUPERVISOR)
    url = f"/api/v1/recordings/{call.id}/audio?download=1"

    probed = get(url, method="HEAD")  # a download manager's probe: the tag, no bytes, no download audited
    whole = get(url)
    again = get(url)

    assert (probed.status_code, probed.data) == (200, b"")
    assert whole.status_code == 200 and whole.data == ORIGINAL and whole.headers["Cache-Control"] == "no-store"
    assert tag_of(probed) == tag_of(whole) == tag_of(again) and again.data == ORIGINAL
    assert call.sha256 not in tag_of(whole)  # a hash of what determines the bytes, not the stored hash itself
    assert_resumes(get, url, whole)
    downloaded = [
        (e.details["range_start"], e.details["bytes"]) for e in events(session, "recording.downloaded", call.id)
    ]
    assert downloaded == [(0, len(ORIGINAL)), (0, len(ORIGINAL)), (BROKE_AT, len(ORIGINAL) - BROKE_AT)]


def test_a_player_resumes_the_original_and_the_rest_is_audited_as_played(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    get = client_of(client, session, Role.QA_SUPERVISOR)
    url = f"/api/v1/recordings/{call.id}/audio"

    head = get(url, Range=f"bytes=0-{BROKE_AT - 1}")
    rest = get(url, Range=f"bytes={BROKE_AT}-", **{"If-Range": tag_of(head)})

    assert head.status_code == 206 and rest.status_code == 206 and head.data + rest.data == ORIGINAL
    assert tag_of(head) == tag_of(rest)
    played = [(e.details["range_start"], e.details["bytes"]) for e in events(session, "recording.played", call.id)]
    assert played == [(0, BROKE_AT), (BROKE_AT, len(ORIGINAL) - BROKE_AT)]  # each carried more than any before


def test_a_resume_after_the_original_was_muted_for_card_data_gets_the_new_original_whole(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """PCI DSS 3.3.1 replaces the original by a card-muted copy: a download begun before must start again, as
    must a redacted copy made from the old original."""
    recording = make_recording(
        session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69, purposes=FOR_TRAINING_TOO
    )
    add_transcript(session, recording, twin=card_twin())
    session.commit()
    qa, coach = client_of(client, session, Role.QA_SUPERVISOR), client_of(client, session, Role.TRAINER)
    url, redacted_url = (
        f"/api/v1/recordings/{recording.id}/audio?download=1",
        f"/api/v1/recordings/{recording.id}/audio/redacted",
    )
    before, redacted_before = qa(url), coach(redacted_url)
    assert before.data == CARD_CALL.read_bytes() and redacted_before.status_code == 200

    old_key = secure(runtime, session, recording)
    session.commit()
    assert old_key is not None and recording.pci_redacted_at is not None
    runtime.store.delete(old_key)

    after = assert_whole_again(qa, url, tag_of(before))
    assert after.data != before.data and len(after.data) == recording.size_bytes
    assert_resumes(qa, url, after)
    redacted_after = assert_whole_again(coach, redacted_url, tag_of(redacted_before))
    assert_resumes(coach, redacted_url, redacted_after)
    downloaded = [
        (e.details["range_start"], e.details["bytes"]) for e in events(session, "recording.downloaded", recording.id)
    ]
    assert [start for start, _ in downloaded] == [0, 0, BROKE_AT]


@pytest.mark.parametrize(
    ("container", "name"),
    [("wav", "wav"), ("mp3", "mp3"), ("ogg", "ogg"), ("flac", "flac"), ("mov,mp4,m4a,3gp,3g2,mj2", "m4a")],
)
def test_the_downloaded_original_is_named_with_its_containers_extension(
    client: FlaskClient, session: Session, runtime: Runtime, container: str, name: str
) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=b"audio bytes", container=container)
    session.commit()
    get = client_of(client, session, Role.QA_SUPERVISOR)

    download = get(f"/api/v1/recordings/{recording.id}/audio?download=1")

    assert download.status_code == 200 and download.data == b"audio bytes"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{recording.id}.{name}"'


def test_the_redacted_audio_resumes_under_its_tag(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    recording = make_recording(
        session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69, purposes=FOR_TRAINING_TOO
    )
    add_transcript(session, recording, twin=card_twin())
    session.commit()
    get = client_of(client, session, Role.TRAINER)
    url = f"/api/v1/recordings/{recording.id}/audio/redacted"

    whole, again, probed = get(url), get(url), get(url, method="HEAD")

    assert whole.status_code == 200 and whole.data[:4] == b"RIFF" and again.data == whole.data
    assert tag_of(whole) == tag_of(again) == tag_of(probed) and whole.headers["Cache-Control"] == "no-store"
    assert_resumes(get, url, whole)


def test_a_clip_resumes_under_its_tag_until_it_is_cut_again(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    recording = make_recording(
        session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69, purposes=["training"]
    )
    add_transcript(session, recording, twin=card_twin())
    cut = cut_clip(session, runtime, recording)
    session.commit()
    get = client_of(client, session, Role.TRAINER, scope="training")
    url = f"/api/v1/training/clips/{cut.id}/audio?format=opus"

    whole, again = get(url), get(url)
    mp3 = get(f"/api/v1/training/clips/{cut.id}/audio?format=mp3")

    assert whole.status_code == 200 and whole.data[:4] == b"OggS" and again.data == whole.data
    assert tag_of(whole) == tag_of(again) != tag_of(mp3)
    assert_resumes(get, url, whole, at=len(whole.data) // 2)

    # The call's redactions change (a name found in the agent's turn): the clip is cut again, to other bytes.
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    twin = card_twin()
    twin[1] = {**twin[1], "redactions": [{"kind": "person", "start": 5.0, "end": 5.5, "timed": True}]}
    seal_segments(session, transcript, segments=segments_of(session, transcript), twin=twin)
    clips.recut_clip(
        session,
        runtime.store,
        runtime.envelope,
        actor=trainer(session),
        clip_id=cut.id,
        rules=TrainingRules(),
        ffmpeg=runtime.settings.ffmpeg_path(),
        tone=False,
    )
    session.commit()

    recut = assert_whole_again(get, url, tag_of(whole), at=len(whole.data) // 2)
    assert recut.data != whole.data and recut.data[:4] == b"OggS"
    assert_resumes(get, url, recut, at=len(recut.data) // 2)


def cut_clip(session: Session, runtime: Runtime, recording: Recording) -> TrainingClip:
    """A clip of the call's first nine seconds, cut by a trainer through the service."""
    return clips.cut_clip(
        session,
        runtime.store,
        runtime.envelope,
        actor=trainer(session),
        recording_id=recording.id,
        start_s=0.0,
        end_s=9.0,
        text=ClipText(title="Asking for the card", tags=(), notes=""),
        rules=TrainingRules(),
        ffmpeg=runtime.settings.ffmpeg_path(),
        tone=False,
    ).made
