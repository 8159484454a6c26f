"""POST /api/v1/recordings: streamed multipart ingest, limits, checksums, idempotency under concurrency."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.config import Settings
from recordings_service.models import AuditEvent, Customer, Recording
from recordings_service.models.account import Role
from recordings_service.originals import original_sha256
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.recordings import (
    LIVE_SOURCE,
    MONO,
    STEREO,
    call_metadata,
    committed_runtime,  # noqa: F401  (a fixture)
    make_token,
    post_ingest,
)
from tests.factories.wav import wav_header
from tests.live_server import MultipartBody, live_server, post_recording
from web import create_app


@pytest.fixture
def token(session: Session) -> str:
    return make_token(session)


def assert_refused(response: Any, status: int, field: str, code: str) -> None:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert (body["error"], body["field"]) == (code, field)
    assert body["message"]


def test_ingest_answers_201_then_200_with_the_same_id_then_409(client: FlaskClient, token: str) -> None:
    metadata = call_metadata()
    first = post_ingest(client, token, metadata)
    assert first.status_code == 201
    body = first.get_json()
    assert set(body) == {
        *("id", "status", "sha256", "duration_s", "codec", "sample_rate", "channels"),
        *("already_ingested", "metadata_not_applied", "retain_until"),
    }
    # Found by a backfill pass: an old call imported late was deleted by the next sweep, and nothing had said when.
    assert datetime.fromisoformat(body["retain_until"]) > datetime.now(UTC) + timedelta(days=300)
    assert (body["already_ingested"], body["metadata_not_applied"]) == (False, [])
    assert body["sha256"] == hashlib.sha256(STEREO.read_bytes()).hexdigest()
    assert (body["status"], body["codec"], body["sample_rate"], body["channels"]) == ("stored", "pcm_mulaw", 8000, 2)
    again = post_ingest(client, token, metadata)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    different = post_ingest(client, token, metadata, audio=STEREO.read_bytes()[:-800])
    assert different.status_code == 409
    assert (different.get_json()["error"], different.get_json()["field"]) == ("conflict", "external_call_id")


def test_ingest_needs_an_ingest_token(client: FlaskClient, session: Session) -> None:
    assert post_ingest(client, "cvt_nonsense", call_metadata()).status_code == 401
    reader = make_token(session, role="compliance", scope="read")
    assert post_ingest(client, reader, call_metadata()).status_code == 403


@pytest.mark.parametrize(
    ("metadata", "field", "code"),
    [
        (call_metadata(colour="red"), "colour", "unknown_field"),
        (call_metadata(notice_given="yes"), "notice_given", "wrong_type"),
        (call_metadata(started_at="2026-01-01T10:00:00"), "started_at", "timezone_required"),
        (call_metadata(started_at="2999-01-01T10:00:00+00:00"), "started_at", "in_future"),
        (call_metadata(channel_layout="stereo", agent_channel="middle"), "agent_channel", "invalid_choice"),
        ("{not json", "metadata", "invalid_json"),
        # Found by exploratory testing: a NUL in the source was compared with the token's, and the refusal's audit
        # event, carrying it, could not be written: a 500.
        (call_metadata(source="pbx-test\u0000"), "source", "invalid_character"),
        # A line break, a tab, an escape sequence or a right-to-left override reached the call list, CSV exports and
        # terminals as sent.
        (call_metadata(external_call_id="call-1\r\nX-Injected: 1"), "external_call_id", "invalid_character"),
        (call_metadata(queue="billing\tfi"), "queue", "invalid_character"),
        (call_metadata(agent_ref="agent-\u001b[31m7"), "agent_ref", "invalid_character"),
        (call_metadata(customer_ref="cust-\u202e1"), "customer_ref", "invalid_character"),
    ],
)
def test_bad_metadata_is_422_naming_the_field(
    client: FlaskClient, token: str, metadata: dict[str, Any] | str, field: str, code: str
) -> None:
    assert_refused(post_ingest(client, token, metadata), 422, field, code)


@pytest.mark.parametrize("padding", [100 * 1024, 2 * 1024 * 1024])
def test_oversized_metadata_is_refused_naming_the_metadata(client: FlaskClient, token: str, padding: int) -> None:
    """Found by exploratory testing: metadata over 1 MiB was refused as audio over the upload limit (1 GiB)."""
    oversized = json.dumps(call_metadata()) + " " * padding
    assert_refused(post_ingest(client, token, oversized), 422, "metadata", "too_large")


def test_names_sent_with_surrounding_spaces_are_stored_without_them(
    client: FlaskClient, token: str, session: Session
) -> None:
    """Found by exploratory testing: " agent-17 " was stored as is, a second agent that no account (ref
    "agent-17") and no trend filter matched."""
    metadata = call_metadata(agent_ref=" agent-17 ", queue="billing\t", customer_ref=" CRM-77")
    response = post_ingest(client, token, metadata)
    assert response.status_code == 201, response.get_json()
    stored = session.get_one(Recording, response.get_json()["id"])
    assert (stored.agent_ref, stored.queue) == ("agent-17", "billing")
    assert session.get_one(Customer, stored.customer_id).customer_ref == "CRM-77"
    assert_refused(post_ingest(client, token, call_metadata(agent_ref="   ")), 422, "agent_ref", "invalid_length")


def test_bad_metadata_422_lists_every_invalid_field(client: FlaskClient, token: str) -> None:
    response = post_ingest(client, token, call_metadata(colour="red", language="de", notice_given="yes"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"][0] == {"field": body["field"], "error": body["error"], "message": body["message"]}
    assert {(each["field"], each["error"]) for each in body["errors"]} == {
        ("colour", "unknown_field"),
        ("language", "invalid_choice"),
        ("notice_given", "wrong_type"),
    }


def _refusals(session: Session, source: str) -> list[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.action == "recording.ingest_refused").order_by(AuditEvent.seq)
    return [event.details for event in session.scalars(query) if event.details.get("source") == source]


def test_a_token_ingests_only_for_its_own_source(client: FlaskClient, session: Session) -> None:
    other = make_token(session, source="pbx-other")
    source = "pbx-not-theirs-" + secrets.token_hex(3)
    refused = post_ingest(client, other, call_metadata(source=source))
    assert refused.status_code == 403
    assert refused.get_json() == {
        "error": "forbidden",
        "message": "this token ingests only for source 'pbx-other'",
        "field": "source",
    }
    assert _refusals(session, source) == [{"reason": "other_source", "source": source}]
    assert session.scalar(select(func.count()).select_from(Recording).where(Recording.source == source)) == 0
    assert post_ingest(client, other, call_metadata(source="pbx-other")).status_code == 201


def test_a_token_from_before_sources_were_bound_ingests_for_none(client: FlaskClient, session: Session) -> None:
    _, unbound = tokens.create_token(session, actor=SYSTEM, user=make_user(session, role=Role.SERVICE), scope="ingest")
    session.commit()
    source = "pbx-unbound-" + secrets.token_hex(3)
    refused = post_ingest(client, unbound, call_metadata(source=source))
    assert refused.status_code == 403 and "--source" in refused.get_json()["message"]
    assert _refusals(session, source) == [{"reason": "token_without_source", "source": source}]


def test_ingest_without_credentials_is_a_json_401(client: FlaskClient) -> None:
    metadata = json.dumps(call_metadata())
    response = client.post(
        "/api/v1/recordings",
        data={"metadata": metadata, "audio": (io.BytesIO(STEREO.read_bytes()), "call.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "unauthorized" and body["message"]


def test_stereo_layout_on_a_mono_file_is_422(client: FlaskClient, token: str) -> None:
    assert_refused(post_ingest(client, token, call_metadata(), audio=MONO), 422, "channel_layout", "layout_mismatch")


def test_hostile_audio_is_422(client: FlaskClient, token: str) -> None:
    assert_refused(post_ingest(client, token, call_metadata(), audio=b"\x00" * 5000), 422, "audio", "unsupported_audio")


def test_missing_parts_and_wrong_content_type_are_422(client: FlaskClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    no_audio = client.post(
        "/api/v1/recordings",
        data={"metadata": json.dumps(call_metadata())},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert_refused(no_audio, 422, "audio", "missing")
    no_metadata = client.post(
        "/api/v1/recordings",
        data={"audio": (io.BytesIO(b"x"), "a.wav")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert_refused(no_metadata, 422, "metadata", "missing")
    assert_refused(client.post("/api/v1/recordings", json={}, headers=auth), 422, "body", "wrong_content_type")


def test_client_checksums_are_verified(client: FlaskClient, token: str) -> None:
    content = STEREO.read_bytes()
    md5 = base64.b64encode(hashlib.md5(content).digest()).decode()
    sha256 = hashlib.sha256(content).hexdigest()
    assert post_ingest(client, token, call_metadata(), headers={"Content-MD5": md5}).status_code == 201
    assert post_ingest(client, token, call_metadata(), headers={"X-Checksum-SHA256": sha256}).status_code == 201
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert_refused(
        post_ingest(client, token, call_metadata(), headers={"Content-MD5": wrong_md5}),
        422,
        "Content-MD5",
        "checksum_mismatch",
    )
    assert_refused(
        post_ingest(client, token, call_metadata(), headers={"X-Checksum-SHA256": "0" * 64}),
        422,
        "X-Checksum-SHA256",
        "checksum_mismatch",
    )
    assert_refused(
        post_ingest(client, token, call_metadata(), headers={"X-Checksum-SHA256": "nope!"}),
        422,
        "X-Checksum-SHA256",
        "invalid_checksum",
    )


def limited_client(app: Flask, settings: Settings, max_upload_bytes: int) -> FlaskClient:
    runtime = replace(app.extensions["callvault"], settings=replace(settings, max_upload_bytes=max_upload_bytes))
    return create_app(runtime.settings, runtime=runtime).test_client()


def test_uploads_over_the_limit_are_413(app: Flask, settings: Settings, token: str) -> None:
    # Announced too large: refused before the body is read.
    assert_refused(post_ingest(limited_client(app, settings, 1000), token, call_metadata()), 413, "audio", "too_large")
    # Within the announced envelope, but the audio part itself outgrows the limit while spooling.
    assert_refused(
        post_ingest(limited_client(app, settings, 300_000), token, call_metadata()), 413, "audio", "too_large"
    )


def test_spooled_files_are_removed_after_every_request(client: FlaskClient, token: str, settings: Settings) -> None:
    # The directory is shared by the whole test session: compare with what other tests left there.
    spool = settings.data_dir / "tmp"
    spool.mkdir(exist_ok=True)
    before = set(spool.iterdir())
    post_ingest(client, token, call_metadata())
    post_ingest(client, token, call_metadata(), audio=MONO)
    post_ingest(client, token, call_metadata(), headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
    assert set(spool.iterdir()) == before


def test_openapi_documents_the_recordings_api(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/recordings"]
    assert "get" in paths["/api/v1/recordings"]
    assert "get" in paths["/api/v1/recordings/{recording_id}"]


# ---------------------------------------------------------------- concurrency, committed for real


def test_ten_concurrent_identical_posts_make_one_row_and_one_object(
    committed_runtime: Runtime,  # noqa: F811  (the fixture imported above)
    settings: Settings,
    store: S3ObjectStore,
) -> None:
    with committed_runtime.sessions() as session:
        token = make_token(session, source="pbx-live-concurrent")
    app = create_app(settings, runtime=committed_runtime)
    before = {info.key for info in store.list("originals/")}
    metadata = call_metadata(source="pbx-live-concurrent", customer_ref="cust-live-1")
    start = threading.Barrier(10)
    results: list[tuple[int, str]] = []

    def ingest_once() -> None:
        client = app.test_client()
        start.wait()
        response = post_ingest(client, token, metadata)
        results.append((response.status_code, response.get_json().get("id", "")))

    threads = [threading.Thread(target=ingest_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 9 + [201], results
    assert len({recording_id for _, recording_id in results}) == 1
    with committed_runtime.sessions() as session:
        rows = session.scalars(select(Recording).where(Recording.source == "pbx-live-concurrent")).all()
        assert len(rows) == 1
        assert (
            session.scalar(select(func.count()).select_from(Customer).where(Customer.customer_ref == "cust-live-1"))
            == 1
        )
    assert {info.key for info in store.list("originals/")} - before == {rows[0].storage_key}
    assert original_sha256(store, committed_runtime.envelope, rows[0]) == rows[0].sha256


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.slow
def test_a_1_gib_upload_keeps_the_web_worker_under_300_mb(
    committed_runtime: Runtime,  # noqa: F811  (the fixture imported above)
    settings: Settings,
    db_kind: str,
    tmp_path: Path,
) -> None:
    if db_kind != "sqlite":
        pytest.skip("memory does not depend on the database; one run is enough")
    with committed_runtime.sessions() as session:
        token = make_token(session, source=f"{LIVE_SOURCE}-rss")
    # 1 GiB of 44.1 kHz 16-bit stereo PCM (1.7 h of silence), written sparse so the disk barely notices.
    big = tmp_path / "big.wav"
    data_bytes = 1024**3 - 44
    with big.open("wb") as out:
        out.write(wav_header(channels=2, rate=44100, data_bytes=data_bytes))
        out.truncate(44 + data_bytes)
    with live_server(settings) as server:
        status, _ = post_recording(
            server,
            token,
            MultipartBody(MONO, call_metadata(source=f"{LIVE_SOURCE}-rss", channel_layout="mono", agent_channel=...)),
        )
        assert status == 201
        (worker,) = server.workers()
        warm = peak_rss_bytes(worker)
        started = time.monotonic()
        status, body = post_recording(
            server, token, MultipartBody(big, call_metadata(source=f"{LIVE_SOURCE}-rss")), timeout=900
        )
        elapsed = time.monotonic() - started
        peak = peak_rss_bytes(worker)
    print(
        f"\n1 GiB ingest: {elapsed:.1f} s; worker peak RSS {peak / 2**20:.0f} MiB"
        f" (after warm-up {warm / 2**20:.0f} MiB)"
    )
    assert status == 201, body
    assert body["duration_s"] == pytest.approx(data_bytes / (44100 * 4), abs=0.1)
    assert peak < 300 * 2**20


def test_random_audio_bytes_pass_the_multipart_parser(client: FlaskClient, token: str) -> None:
    # Random samples contain partial boundaries (CR LF, dashes) that make Werkzeug buffer more than one read.
    noise = secrets.token_bytes(2_000_000)
    audio = wav_header(channels=2, rate=8000, data_bytes=len(noise)) + noise
    assert post_ingest(client, token, call_metadata(), audio=audio).status_code == 201
