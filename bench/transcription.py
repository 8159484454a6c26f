"""Transcription benchmark: raw engine vs the full pipeline, faster-whisper vs openai-whisper, RTF, RSS.

    .venv/bin/python bench/transcription.py [--audio tests/data/call_en_stereo.wav] [--threads 2]
        [--openai-model base.pt] [--long 2h_stereo.wav]

Every ratio compares figures measured in this run on this machine. RTF is audio seconds per wall
second (higher is faster). `--long FILE` runs the pipeline on FILE in a child process and reports
that child's peak RSS (the 2-hour-call memory goal is < 1.5 GB).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recordings_service.config import Settings  # noqa: E402
from recordings_service.storage.encryption import Envelope, generate_master_key  # noqa: E402
from recordings_service.storage.object_store import StoredObject  # noqa: E402
from recordings_service.transcription.engines import Engine, load_engine  # noqa: E402
from recordings_service.transcription.pipeline import (  # noqa: E402
    RecordingAudio,
    _decoded_channel,
    _windows,
    transcribe_audio,
)

RECORDING_ID = "01BENCH0000000000000000000"


class MemoryStore:
    """Just enough of ObjectStore for the pipeline (put and get), so the store's network is not timed."""

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}

    def put(self, key: str, source: BinaryIO) -> StoredObject:
        self._objects[key] = source.read()
        return StoredObject(key=key, size=len(self._objects[key]), sha256="")

    def get(self, key: str) -> BinaryIO:
        return io.BytesIO(self._objects[key])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stored_call(path: Path, envelope: Envelope, store: MemoryStore, channels: int) -> RecordingAudio:
    sealed = io.BytesIO()
    sealed.close = lambda: None  # type: ignore[method-assign]  # Tink closes its output; keep the bytes
    with path.open("rb") as source:
        wrapped = envelope.encrypt(source, sealed, object_id=RECORDING_ID)
    sealed.seek(0)
    store.put("bench", sealed)
    return RecordingAudio(
        recording_id=RECORDING_ID,
        storage_key="bench",
        wrapped_data_key=wrapped.wrapped,
        channels=channels,
        agent_channel="left" if channels == 2 else None,
        language="en",
        duration_s=audio_duration_s(path),  # the decoder's output cap
    )


def channel_windows(path: Path, channels: int) -> list[list[tuple[float, object]]]:
    picks: list[int | None] = [0, 1] if channels == 2 else [None]
    duration_s = audio_duration_s(path)
    return [list(_windows(_decoded_channel(path, channel=pick, duration_s=duration_s))) for pick in picks]


def raw_engine_s(engine: Engine, decoded: list[list[tuple[float, object]]], language: str) -> tuple[float, str]:
    """Wall time of the engine alone on pre-decoded audio, and the text it produced."""
    started = time.perf_counter()
    texts = []
    for windows in decoded:
        for _offset, audio in windows:
            result = engine.transcribe(audio, language=language)  # type: ignore[arg-type]
            texts.extend(segment.text for segment in result.segments)
    return time.perf_counter() - started, " ".join(texts)


def audio_duration_s(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base) if stream.duration else float(container.duration) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audio", type=Path, default=ROOT / "tests/data/call_en_stereo.wav")
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--language", default="en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--openai-model", type=Path, help="an openai-whisper .pt with the same weights")
    parser.add_argument("--long", type=Path, help="a long stereo call: report the pipeline's peak RSS on it")
    parser.add_argument("--pipeline-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    data_dir = Path(tempfile.gettempdir()) / "callvault-bench"
    settings = Settings(data_dir=data_dir, transcribe_threads=args.threads, master_key=generate_master_key())
    envelope = Envelope(settings.master_key)
    store = MemoryStore()

    started = time.perf_counter()
    engine = load_engine(settings)
    load_s = time.perf_counter() - started
    call = stored_call(args.audio, envelope, store, args.channels)

    if args.pipeline_only:
        started = time.perf_counter()
        draft = transcribe_audio(store, envelope=envelope, engine=engine, audio=call)  # type: ignore[arg-type]
        wall = time.perf_counter() - started
        print(json.dumps({"wall_s": wall, "segments": len(draft.segments), "peak_rss_mb": peak_rss_mb()}))
        return

    duration = audio_duration_s(args.audio)
    decoded = channel_windows(args.audio, args.channels)
    raw_engine_s(engine, decoded, args.language)  # warm-up: first-call allocations are not the steady state
    # Alternate the two so that load from other processes on a shared machine hits both alike.
    raws, pipelines = [], []
    for _ in range(args.rounds):
        raws.append(raw_engine_s(engine, decoded, args.language)[0])
        pipelines.append(_timed_pipeline(store, envelope, engine, call))
    raw, pipeline = min(raws), min(pipelines)
    print(f"audio: {args.audio.name}, {duration:.1f} s, {args.channels} channel(s); threads: {args.threads}")
    print(f"faster-whisper model load: {load_s:.2f} s ({engine.model}, int8 on CPU)")
    print(f"raw engine:     {raw:6.2f} s  RTF {duration / raw:5.2f}x real time")
    print(f"full pipeline:  {pipeline:6.2f} s  RTF {duration / pipeline:5.2f}x real time")
    print(f"pipeline / raw overhead ratio: {pipeline / raw:.3f} (goal <= 1.10)")
    print(f"peak RSS so far (faster-whisper, this process): {peak_rss_mb():.0f} MB")

    if args.openai_model:
        _compare_openai(args, settings, decoded, duration, raw)
    else:
        print("openai-whisper: skipped (pass --openai-model PATH.pt; see requirements-openai-whisper.txt)")

    if args.long:
        _long_call_rss(args)


def _timed_pipeline(store: MemoryStore, envelope: Envelope, engine: Engine, call: RecordingAudio) -> float:
    started = time.perf_counter()
    transcribe_audio(store, envelope=envelope, engine=engine, audio=call)  # type: ignore[arg-type]
    return time.perf_counter() - started


def _compare_openai(
    args: argparse.Namespace,
    settings: Settings,
    decoded: list[list[tuple[float, object]]],
    duration: float,
    fw_raw: float,
) -> None:
    openai_settings = replace(settings, transcribe_engine="openai-whisper", transcribe_model=str(args.openai_model))
    started = time.perf_counter()
    engine = load_engine(openai_settings)
    load_s = time.perf_counter() - started
    raw_engine_s(engine, decoded, args.language)
    wall, text = min(raw_engine_s(engine, decoded, args.language) for _ in range(args.rounds))
    print(f"openai-whisper model load: {load_s:.2f} s; raw engine {wall:.2f} s  RTF {duration / wall:.2f}x real time")
    print(f"faster-whisper speed-up over openai-whisper: {wall / fw_raw:.2f}x (goal >= 3)")
    print(f"peak RSS after both engines: {peak_rss_mb():.0f} MB")
    print(f"openai-whisper text: {text[:160]}")


def _long_call_rss(args: argparse.Namespace) -> None:
    command = [sys.executable, __file__, "--pipeline-only", "--audio", str(args.long), "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    duration = audio_duration_s(args.long)
    print(
        f"long call {args.long.name} ({duration / 3600:.2f} h stereo): pipeline {figures['wall_s']:.0f} s, "
        f"RTF {duration / figures['wall_s']:.1f}x, peak RSS {figures['peak_rss_mb']:.0f} MB (goal < 1500 MB)"
    )


if __name__ == "__main__":
    main()
