"""Transcription benchmark: raw engine vs the full pipeline, faster-whisper vs openai-whisper, RTF, RSS.

    .venv/bin/python bench/transcription.py [--audio tests/data/call_en_stereo.wav] [--threads 2]
        [--openai-model base.pt] [--long 2h_stereo.wav]
    .venv/bin/python bench/transcription.py --batching [--lengths 1 2 3] [--batch-size N] [--openai-model base.pt]

Every ratio compares figures measured in this run on this machine. RTF is audio seconds per wall
second (higher is faster). `--long FILE` runs the pipeline on FILE in a child process and reports
that child's peak RSS (the 2-hour-call memory goal is < 1.5 GB). `--openai-model PATH` names an
openai-whisper checkpoint; a missing one is first built from the bundled weights (tests/whisper_checkpoint.py).

`--batching` runs the full pipeline sequentially (batch size 1) and batched over a set of calls made
from the fixtures in tests/data: each of the four calls (English, English card payment, Finnish, mono)
repeated end to end 1, 2 and 3 times (`--lengths`), 12 calls in all. It reports the throughput of each
(audio seconds per wall second), the word error rate of each on the stereo English and Finnish fixtures (once
through) against their scripts, and, with `--openai-model`, openai-whisper's throughput and error rate on those
English fixtures. With CUDA visible, the set runs on the GPU too.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recordings_service.config import Settings  # noqa: E402
from recordings_service.storage.encryption import Envelope, generate_master_key  # noqa: E402
from recordings_service.storage.object_store import StoredObject  # noqa: E402
from recordings_service.transcription.engines import Engine, default_batch_size, load_engine  # noqa: E402
from recordings_service.transcription.model_files import default_model_dir  # noqa: E402
from recordings_service.transcription.pipeline import (  # noqa: E402
    RecordingAudio,
    TranscriptDraft,
    _decoded_channel,
    _windows,
    transcribe_audio,
)
from tests.factories.transcription import script_wer  # noqa: E402

DATA = ROOT / "tests/data"
# The call set for --batching: fixture, its language; the stereo English and Finnish ones are also scored for WER.
SET_FIXTURES = (
    ("call_en_stereo.wav", "en"),
    ("call_card_en_stereo.wav", "en"),
    ("call_fi_stereo.wav", "fi"),
    ("call_mono.wav", "en"),
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


def stored_call(
    path: Path, envelope: Envelope, store: MemoryStore, channels: int, *, language: str = "en"
) -> RecordingAudio:
    sealed = io.BytesIO()
    sealed.close = lambda: None  # type: ignore[method-assign]  # Tink closes its output; keep the bytes
    with path.open("rb") as source:
        wrapped = envelope.encrypt(source, sealed, object_id=RECORDING_ID)
    sealed.seek(0)
    store.put(path.name, sealed)
    return RecordingAudio(
        recording_id=RECORDING_ID,
        storage_key=path.name,
        wrapped_data_key=wrapped.wrapped,
        channels=channels,
        agent_channel="left" if channels == 2 else None,
        language=language,
        duration_s=audio_duration_s(path),  # the decoder's output cap
    )


def channel_windows(path: Path, channels: int) -> list[list[tuple[float, object]]]:
    picks: list[int | None] = [0, 1] if channels == 2 else [None]
    duration_s = audio_duration_s(path)
    return [list(_windows(_decoded_channel(path, channel=pick, duration_s=duration_s))) for pick in picks]


def raw_engine_s(engine: Engine, decoded: list[list[tuple[float, object]]], language: str) -> tuple[float, str]:
    """Wall time of the engine alone on pre-decoded audio, and the text it produced."""
    started = time.perf_counter()
    texts: list[str] = []
    for windows in decoded:
        for _offset, audio in windows:
            result = engine.transcribe(audio, language=language)  # type: ignore[arg-type]
            texts.extend(segment.text for segment in result.segments)
    return time.perf_counter() - started, " ".join(texts)


def audio_duration_s(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1e6


@dataclass(frozen=True)
class BenchCall:
    name: str
    audio: RecordingAudio
    duration_s: float
    language: str
    script: Path | None  # set on the stereo English and Finnish fixtures played once: their WER is reported


def call_set(lengths: list[int], workdir: Path, envelope: Envelope, store: MemoryStore) -> list[BenchCall]:
    """Each set fixture repeated end to end `length` times (16-bit PCM WAV, the fixture's rate and channels)."""
    import av

    calls = []
    for fixture, language in SET_FIXTURES:
        source = DATA / fixture
        with av.open(str(source)) as container:
            stream = container.streams.audio[0]
            rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
            resampler = av.AudioResampler(format="s16", layout="stereo" if channels == 2 else "mono", rate=rate)
            pcm = np.concatenate(
                [
                    frame.to_ndarray().reshape(-1)
                    for packet in container.decode(stream)
                    for frame in resampler.resample(packet)
                ]
            )
        # The stereo fixtures are scored once, where they are played once.
        scored = lengths.index(1) if 1 in lengths and "_stereo" in fixture else None
        for position, length in enumerate(lengths):
            path = workdir / f"{source.stem}_x{length}.wav"
            with wave.open(str(path), "wb") as out:
                out.setnchannels(channels)
                out.setsampwidth(2)
                out.setframerate(rate)
                out.writeframes(np.tile(pcm, length).tobytes())
            calls.append(
                BenchCall(
                    name=path.stem,
                    audio=stored_call(path, envelope, store, channels, language=language),
                    duration_s=audio_duration_s(path),
                    language=language,
                    script=source.with_suffix(".txt") if position == scored else None,
                )
            )
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audio", type=Path, default=ROOT / "tests/data/call_en_stereo.wav")
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--language", default="en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--openai-model", type=Path, help="an openai-whisper .pt with the same weights")
    parser.add_argument("--long", type=Path, help="a long stereo call: report the pipeline's peak RSS on it")
    parser.add_argument("--batching", action="store_true", help="sequential vs batched over a set of calls")
    parser.add_argument("--lengths", type=int, nargs="+", default=[1, 2, 3], help="--batching: fixture repeats")
    parser.add_argument("--batch-size", type=int, help="--batching: default, what the jobs process would pick")
    parser.add_argument("--pipeline-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    data_dir = Path(tempfile.gettempdir()) / "callvault-bench"
    settings = Settings(data_dir=data_dir, transcribe_threads=args.threads, master_key=generate_master_key())
    envelope = Envelope(settings.master_key)
    store = MemoryStore()
    if args.openai_model and not args.openai_model.exists():
        from tests.whisper_checkpoint import write_openai_checkpoint

        write_openai_checkpoint(default_model_dir(data_dir), args.openai_model)

    if args.batching:
        _compare_batching(args, settings, envelope, store)
        return

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
    return _timed_draft(store, envelope, engine, call)[0]


def _timed_draft(
    store: MemoryStore, envelope: Envelope, engine: Engine, call: RecordingAudio
) -> tuple[float, TranscriptDraft]:
    started = time.perf_counter()
    draft = transcribe_audio(store, envelope=envelope, engine=engine, audio=call)  # type: ignore[arg-type]
    return time.perf_counter() - started, draft


def comparison_batch_size(settings: Settings, *, requested: int | None) -> int:
    """The batch size `--batching` measures: the one asked for, else the jobs process's default for the device."""
    return requested or default_batch_size(settings)


def wer_summary(wers: list[float], *, language: str = "English") -> str:
    """Word error rates of one language's fixtures; only calls that are a fixture once through have a script."""
    if not wers:
        return f"{language} WER not measured (fixtures are scored once through: put 1 in --lengths)"
    return f"{language} WER {' '.join(f'{wer:.3f}' for wer in wers)} (mean {sum(wers) / len(wers):.3f})"


def _compare_batching(args: argparse.Namespace, settings: Settings, envelope: Envelope, store: MemoryStore) -> None:
    import ctranslate2  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="callvault-bench-set-") as workdir:
        calls = call_set(args.lengths, Path(workdir), envelope, store)
    total_s = sum(call.duration_s for call in calls)
    print(
        f"call set: {len(calls)} calls, {total_s:.1f} s of audio (the tests/data calls repeated {args.lengths} times); "
        f"threads: {args.threads}; CPUs: {os.cpu_count()}"
    )
    devices = ["cpu"] + (["cuda"] if ctranslate2.get_cuda_device_count() > 0 else [])
    walls_on_cpu: list[float] = []
    for device in devices:
        on_device = replace(settings, transcribe_device=device)
        batch_size = comparison_batch_size(on_device, requested=args.batch_size)
        modes = {
            "sequential": load_engine(replace(on_device, transcribe_batch_size=1)),
            "batched": load_engine(replace(on_device, transcribe_batch_size=batch_size)),
        }
        for engine in modes.values():  # warm-up: first-call allocations are not the steady state
            _timed_pipeline(store, envelope, engine, calls[0].audio)
        runs: dict[str, list[tuple[float, TranscriptDraft]]] = {mode: [] for mode in modes}
        for call in calls:
            # Alternate the two so that load from other processes on a shared machine hits both alike.
            for mode, engine in modes.items():
                runs[mode].append(_timed_draft(store, envelope, engine, call.audio))
        print(f"device {device} ({'float16' if device == 'cuda' else 'int8'}), batch size {batch_size}:")
        throughput = {}
        for mode, timed in runs.items():
            wall = sum(call_wall for call_wall, _draft in timed)
            throughput[mode] = total_s / wall
            wers = {
                language: [
                    script_wer(draft, call.script)
                    for call, (_, draft) in zip(calls, timed, strict=True)
                    if call.script and call.language == language
                ]
                for language in ("en", "fi")
            }
            print(
                f"  {mode:10s} {wall:7.2f} s  throughput {throughput[mode]:6.2f} audio s / wall s",
                wer_summary(wers["en"]),
                wer_summary(wers["fi"], language="Finnish"),
                sep="  ",
            )
        speed_up = throughput["batched"] / throughput["sequential"]
        print(f"  batched / sequential throughput: {speed_up:.2f}x (goal >= 1.5); per call, wall s:")
        for call, (sequential_wall, _), (batched_wall, _) in zip(calls, *runs.values(), strict=True):
            print(
                f"    {call.name:26s} {call.duration_s:6.1f} s audio  sequential {sequential_wall:6.2f}"
                f"  batched {batched_wall:6.2f}  ({sequential_wall / batched_wall:.2f}x)"
            )
        if device == "cpu":
            walls_on_cpu = [call_wall for call_wall, _draft in runs["batched"]]
    if args.openai_model:
        _compare_openai_on_english(args, settings, envelope, store, calls, walls_on_cpu)
    else:
        print("openai-whisper: skipped (pass --openai-model PATH.pt)")


def _compare_openai_on_english(
    args: argparse.Namespace,
    settings: Settings,
    envelope: Envelope,
    store: MemoryStore,
    calls: list[BenchCall],
    batched_walls: list[float],
) -> None:
    """openai-whisper through the same pipeline on the scored English calls, against batched faster-whisper on CPU."""
    openai_settings = replace(
        settings, transcribe_engine="openai-whisper", transcribe_model=str(args.openai_model), transcribe_device="cpu"
    )
    engine = load_engine(openai_settings)
    scored = [
        (call, batched_wall)
        for call, batched_wall in zip(calls, batched_walls, strict=True)
        if call.script and call.language == "en"
    ]
    _timed_pipeline(store, envelope, engine, scored[0][0].audio)
    audio_s = sum(call.duration_s for call, _ in scored)
    wall, wers = 0.0, []
    for call, _ in scored:
        call_wall, draft = _timed_draft(store, envelope, engine, call.audio)
        wall += call_wall
        wers.append(script_wer(draft, call.script) if call.script else 0.0)
    batched = sum(batched_wall for _, batched_wall in scored)
    print(
        f"openai-whisper (cpu) on the English calls: {wall:.2f} s  throughput {audio_s / wall:.2f} audio s / wall s"
        f"  WER {' '.join(f'{wer:.3f}' for wer in wers)}"
    )
    print(f"batched faster-whisper (cpu) / openai-whisper, same calls and weights: {wall / batched:.2f}x (goal >= 4)")


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
