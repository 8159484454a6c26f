"""The multi-node rehearsal: Callvault on a SeaweedFS cluster (infra/seaweedfs/cluster.py: a master, three volume
servers with replication 001, a filer and the S3 gateway), PostgreSQL, two web processes and three jobs processes.

300 calls are ingested across both web processes while the three workers transcribe them, and a volume server
is killed (SIGKILL, a lost machine) half way through and stays down. Every call is transcribed, none twice: each
job finished on its first claim, and the workers' logs name disjoint calls. Then the integrity check decrypts and
re-hashes every one of the 300 originals with the volume server still down: all readable, all intact.

One call in SPEECH_EVERY is the spoken mono fixture and comes out as its words; the others are a quiet line
(a caller who hung up before speaking: line hiss only), which the same pipeline decodes and finds no speech in.
Whisper's encoder reads a 30 s window for any speech at all, about 1.2 s of CPU per spoken call here, so 300
spoken calls were some 6 minutes of the suite's CPU; what the rehearsal proves (distribution, leases, a lost
volume server) does not depend on what was said, and Whisper's cost per call is measured by bench/transcription.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import wave
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest
from sqlalchemy import select

from recordings_service.config import Settings, read_env_file
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.integrity import check_integrity
from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope, generate_master_key
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcript_text import segments_of
from tests.conftest import free_port_block, private_postgres_schema
from tests.factories.recordings import DATA, MONO, TEST_ACTOR, make_token
from tests.faults.support import SOURCE, new_call, send
from tests.live_server import LiveServer, live_server, settings_env

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "infra" / "seaweedfs" / "cluster.py"
CALLS = 300
SPEECH_EVERY = 10
WORKERS = 3
STOPPED_VOLUME = "volume3"
TRANSCRIBE_WAIT_S = 600
pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(900)]
PORT_SPAN = 12  # cluster.py's: an HTTP and a gRPC port for each of its six servers


@dataclass(frozen=True)
class Cluster:
    root: Path
    base_port: int

    def run(self, action: str, *servers: str) -> dict[str, object]:
        """`infra/seaweedfs/cluster.py ACTION [SERVER...]`, as an operator types it; its JSON answer."""
        command = [sys.executable, str(CLUSTER), action, *servers, "--dir", str(self.root)]
        done = subprocess.run(
            [*command, "--base-port", str(self.base_port)], check=True, capture_output=True, text=True, timeout=120
        )
        answer: dict[str, object] = json.loads(done.stdout)
        return answer


@contextmanager
def seaweedfs_cluster(root: Path) -> Iterator[tuple[Cluster, dict[str, str]]]:
    """Start the cluster with the infra script; stop it and prove no `weed` of it is left behind."""
    cluster = Cluster(root, free_port_block(PORT_SPAN))
    try:
        cluster.run("start")
        yield cluster, read_env_file(root / "callvault.env")
    finally:
        cluster.run("stop")
        assert _weeds_of(root) == []


def _weeds_of(root: Path) -> list[int]:
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        if any(str(root) in argument for argument in process.info["cmdline"] or []):
            found.append(process.info["pid"])
    return found


@contextmanager
def jobs_processes(settings: Settings, logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = settings_env(settings)
    processes = []
    try:
        for number in range(WORKERS):
            with (logs / f"jobs{number}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen([sys.executable, "-m", "jobs"], cwd=REPO, env=env, stdout=log, stderr=log)
                )
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _transcribed_by(log: Path) -> list[str]:
    """The calls a jobs process logged as transcribed (its JSON log lines)."""
    calls = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "call transcribed":
            calls.append(entry["recording"])
    return calls


def _errors_in(log: Path) -> list[str]:
    """What a jobs process logged at ERROR (a job disabled at start, say): why a worker stayed idle."""
    return [line for line in log.read_text().splitlines() if '"level": "ERROR"' in line or "Traceback" in line]


def quiet_line(path: Path, seconds: float = 5.0, rate: int = 8000) -> Path:
    """A stereo call with nobody speaking: line hiss about 60 dB below full scale on both channels."""
    hiss = np.random.default_rng(16).normal(0, 32, size=(int(seconds * rate), 2)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(hiss.tobytes())
    return path


def spoken_words(transcript: list[dict[str, object]]) -> set[str]:
    return {word.strip(".,?!").lower() for segment in transcript for word in str(segment["text"]).split()}


def _ingest(server: LiveServer, token: str, audio: Path) -> tuple[str, int]:
    """One call, retried as a telephony client retries after a 503 (the store briefly unavailable); its id and
    the number of retries."""
    call = new_call(audio)
    for retries in range(30):
        status, headers = send(server, token, call)
        if status == 201:
            return json.loads(headers["body"])["id"], retries
        assert status == 503, (status, headers["body"])
        assert "retry-after" in headers
        time.sleep(1)
    pytest.fail(f"call {call.external_call_id} still refused after 30 tries")


def test_a_three_volume_cluster_loses_nothing_when_a_volume_server_dies(tmp_path: Path) -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        cluster, s3 = stack.enter_context(seaweedfs_cluster(tmp_path / "cluster"))
        database_url = stack.enter_context(private_postgres_schema("t_cluster_"))
        settings = Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            s3_endpoint=s3["CALLVAULT_S3_ENDPOINT"],
            s3_bucket="callvault",
            s3_access_key=s3["CALLVAULT_S3_ACCESS_KEY"],
            s3_secret_key=s3["CALLVAULT_S3_SECRET_KEY"],
            master_key=generate_master_key(),
            secret_key=secrets.token_urlsafe(32),
            audit_key=secrets.token_urlsafe(32),
            log_format="json",
            transcribe_threads=1,
            transcribe_beam_size=1,
            transcribe_language="en",
        ).with_derived_defaults()
        settings.data_dir.mkdir(mode=0o700)
        store = S3ObjectStore.from_settings(settings)
        store.ensure_bucket()
        engine = make_engine(database_url, pool_pre_ping=True)
        stack.callback(engine.dispose)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            token = make_token(session, source=SOURCE)
        webs = [stack.enter_context(live_server(settings, workers=2, threads=4)) for _ in range(2)]
        workers = stack.enter_context(jobs_processes(settings, tmp_path))

        # Ingest across both web processes while the workers transcribe; half way, a volume server dies for good.
        ingested: dict[int, list[str]] = {web.port: [] for web in webs}
        spoken: set[str] = set()
        quiet = quiet_line(tmp_path / "quiet_line.wav")
        retries, held = 0, 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            audio = [MONO if n % SPEECH_EVERY == 0 else quiet for n in range(CALLS)]
            uploads = {pool.submit(_ingest, webs[n % 2], token, audio[n]): n for n in range(CALLS)}
            for accepted, upload in enumerate(as_completed(uploads), start=1):
                recording_id, tries = upload.result()
                ingested[webs[uploads[upload] % 2].port].append(recording_id)
                if audio[uploads[upload]] == MONO:
                    spoken.add(recording_id)
                retries += tries
                if accepted == CALLS // 2:  # with uploads in flight and calls being transcribed
                    assert cluster.run("kill", STOPPED_VOLUME) == {"stopped": [STOPPED_VOLUME]}
                    held = sum(path.stat().st_size for path in (cluster.root / STOPPED_VOLUME).glob("*.dat"))
                    assert held > 0, "the stopped server held no copies: its loss would prove nothing"
        ingest_s = time.monotonic() - started
        all_ids = {recording_id for ids in ingested.values() for recording_id in ids}
        assert len(all_ids) == CALLS

        # The workers go on until every call is transcribed.
        deadline = time.monotonic() + TRANSCRIBE_WAIT_S
        while time.monotonic() < deadline:
            with sessions() as session:
                states = Counter(session.scalars(select(TranscriptionJob.state)).all())
            if states["done"] + states["failed"] == CALLS:
                break
            time.sleep(1)
        assert states == Counter({"done": CALLS}), states
        assert all(worker.poll() is None for worker in workers)

        with sessions() as session:
            jobs = session.scalars(select(TranscriptionJob)).all()
            # Exactly once: every job finished on its first claim, there is one transcript per call, nothing failed.
            assert {(job.state, job.attempts) for job in jobs} == {("done", 1)}
            transcribed = set(session.scalars(select(Transcript.recording_id)).all())
            assert transcribed == all_ids
            # The spoken calls come out as their words; on a quiet line Whisper is not made to hear any.
            session.info[SESSION_ENVELOPE] = Envelope(settings.master_key)
            heard = {
                transcript.recording_id: spoken_words(segments_of(session, transcript))
                for transcript in session.scalars(select(Transcript))
            }
            said = (DATA / "call_mono.txt").read_text().splitlines()  # "0.50 2.62 agent: Northern Energy, …"
            expected = spoken_words([{"text": line.split(": ", 1)[1]} for line in said])
            assert all(len(heard[call] & expected) >= 5 for call in spoken), {call: heard[call] for call in spoken}
            assert {call for call, words in heard.items() if words} == spoken
            # Every original, those that had a copy on the dead server included, decrypts to its ingest hash.
            report = check_integrity(session, store, Envelope(settings.master_key), actor=TEST_ACTOR)
            assert (report.run.checked, report.findings) == (CALLS, [])
            assert set(session.scalars(select(Recording.id)).all()) == all_ids
            session.rollback()
    per_worker = [_transcribed_by(tmp_path / f"jobs{number}.log") for number in range(WORKERS)]
    # Each worker took its share, and no call appears in two workers' logs.
    idle = [number for number, calls in enumerate(per_worker) if not calls]
    assert idle == [], {number: _errors_in(tmp_path / f"jobs{number}.log") for number in idle}
    assert sorted(call for calls in per_worker for call in calls) == sorted(transcribed)
    assert all(spoken & set(calls) for calls in per_worker), "a worker never ran Whisper on speech"
    print(
        f"\ncalls ingested per web process: {[len(ids) for ids in ingested.values()]}, 503 retries: {retries}, "
        f"{STOPPED_VOLUME} held {held // 1024} KiB when killed, "
        f"ingest {ingest_s:.0f} s; transcriptions per worker: {[len(calls) for calls in per_worker]} "
        f"(spoken: {[len(spoken & set(calls)) for calls in per_worker]}); "
        f"total {time.monotonic() - started:.0f} s"
    )
