"""`bench.transcription --batching` on another machine's accelerator, from audio decoded here.

A GPU machine may have CUDA, Python and the engine but not the rest of the service (its store, database,
FFmpeg). So the work is split: `prepare` decodes the batching bench's call set here, through the pipeline's own
decoder and windows, into one .npz; `time`, on the other machine, needs only numpy, pydantic, faster-whisper and
the model directory, and transcribes every call sequentially (channel by channel) and batched (the channels'
windows side by side), as the pipeline does, through `load_engine`; `score` prints, here, the throughputs, their
ratio and the word error rates on the scored fixtures, in the batching bench's format.

    .venv/bin/python -m bench.transcription_device prepare calls.npz [--lengths 1 2 3]
    python3 bench/transcription_device.py time calls.npz --model DIR --results results.json [--device cuda]
    .venv/bin/python -m bench.transcription_device score results.json --calls calls.npz
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recordings_service.config import Settings  # noqa: E402
from recordings_service.transcription.engines import SAMPLE_RATE, default_batch_size, load_engine  # noqa: E402
from recordings_service.transcription.model_files import DEFAULT_MODEL_NAME  # noqa: E402

# 16-bit samples keep the .npz small enough to travel; the decoder's own output is 16-bit PCM scaled to float.
PCM_SCALE = 32767.0


def prepare(out: Path, lengths: list[int]) -> None:
    from bench.transcription import MemoryStore, call_set, channel_windows
    from recordings_service.storage.encryption import Envelope, generate_master_key

    arrays: dict[str, Any] = {}
    manifest = []
    with tempfile.TemporaryDirectory(prefix="callvault-bench-device-") as workdir:
        calls = call_set(lengths, Path(workdir), Envelope(generate_master_key()), MemoryStore())
        for number, call in enumerate(calls):
            channels = channel_windows(Path(workdir) / f"{call.name}.wav", call.audio.channels)
            offsets = []
            for channel, windows in enumerate(channels):
                offsets.append([offset for offset, _audio in windows])
                for index, (_offset, audio) in enumerate(windows):
                    pcm = np.clip(np.asarray(audio) * PCM_SCALE, -PCM_SCALE, PCM_SCALE)
                    arrays[f"c{number}_{channel}_{index}"] = pcm.round().astype(np.int16)
            manifest.append(
                {
                    "name": call.name,
                    "duration_s": call.duration_s,
                    "language": call.language,
                    "script": str(call.script.relative_to(ROOT)) if call.script else None,
                    "offsets": offsets,
                }
            )
    np.savez_compressed(out, manifest=np.array(json.dumps(manifest)), **arrays)
    print(f"{out}: {len(manifest)} calls, {sum(call['duration_s'] for call in manifest):.1f} s of audio")


@dataclass(frozen=True)
class DecodedCall:
    name: str
    duration_s: float
    language: str
    script: str | None
    channels: list[list[tuple[float, np.ndarray]]]  # per channel: (offset s, 16 kHz float32 window)


def load_calls(path: Path) -> list[DecodedCall]:
    with np.load(path) as data:
        manifest = json.loads(str(data["manifest"]))
        return [
            DecodedCall(
                name=call["name"],
                duration_s=call["duration_s"],
                language=call["language"],
                script=call["script"],
                channels=[
                    [
                        (offset, data[f"c{number}_{channel}_{index}"].astype(np.float32) / PCM_SCALE)
                        for index, offset in enumerate(offsets)
                    ]
                    for channel, offsets in enumerate(call["offsets"])
                ],
            )
            for number, call in enumerate(manifest)
        ]


def transcribed(engine: Any, call: DecodedCall, *, batched: bool) -> tuple[float, list[dict[str, Any]]]:
    """Wall time and segments (channel, start, end, text) of one call, windows grouped as the pipeline groups them."""
    segments = []
    started = time.perf_counter()
    if batched:
        for side_by_side in itertools.zip_longest(*call.channels):
            present = [(channel, window) for channel, window in enumerate(side_by_side) if window is not None]
            joint = engine.transcribe_channels([audio for _, (_, audio) in present], language=call.language)
            for index, segment in joint.segments:
                channel, (offset, _audio) = present[index]
                segments.append(_segment(channel, offset, segment))
    else:
        for channel, windows in enumerate(call.channels):
            for offset, audio in windows:
                for segment in engine.transcribe(audio, language=call.language).segments:
                    segments.append(_segment(channel, offset, segment))
    wall = time.perf_counter() - started
    segments.sort(key=lambda item: (item["start"], item["end"]))
    return wall, segments


def _segment(channel: int, offset: float, segment: Any) -> dict[str, Any]:
    return {"channel": channel, "start": offset + segment.start, "end": offset + segment.end, "text": segment.text}


def time_engines(calls_path: Path, *, model: Path, device: str, batch_size: int | None, results: Path) -> None:
    import ctranslate2  # type: ignore[import-untyped]

    calls = load_calls(calls_path)
    settings = Settings(data_dir=Path(tempfile.gettempdir()), transcribe_model=str(model), transcribe_device=device)
    size = batch_size or default_batch_size(settings)
    engines = {}
    for mode, mode_size in (("sequential", 1), ("batched", size)):
        started = time.perf_counter()
        engines[mode] = load_engine(replace(settings, transcribe_batch_size=mode_size))
        print(f"{mode} engine loaded in {time.perf_counter() - started:.2f} s", flush=True)
    for mode, engine in engines.items():  # warm-up: first-call allocations are not the steady state
        transcribed(engine, calls[0], batched=mode == "batched")
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in engines}
    for call in calls:
        for mode, engine in engines.items():  # alternated, so that a neighbour's load hits both alike
            wall, segments = transcribed(engine, call, batched=mode == "batched")
            runs[mode].append({"wall_s": wall, "segments": segments})
        print(f"{call.name}: " + ", ".join(f"{mode} {run[-1]['wall_s']:.2f} s" for mode, run in runs.items()))
    results.write_text(
        json.dumps(
            {
                "machine": _machine(),
                "device": device,
                "cuda_devices": ctranslate2.get_cuda_device_count(),
                "compute_type": "float16" if device == "cuda" else "int8",
                "batch_size": size,
                "model": DEFAULT_MODEL_NAME if model.name == DEFAULT_MODEL_NAME else str(model),
                "calls": [{"name": call.name, "duration_s": call.duration_s} for call in calls],
                "runs": runs,
            }
        )
    )


def _machine() -> str:
    try:
        gpus = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            check=False,
            text=True,
            timeout=30,
        ).stdout.strip()
    except OSError:
        gpus = ""
    return f"{platform.node()}; {gpus or 'no NVIDIA GPU'}"


@dataclass(frozen=True)
class ScoredDraft:
    """What `script_wer` reads of a transcript draft."""

    segments: list[dict[str, Any]]


def score(results_path: Path, calls_path: Path) -> None:
    from bench.transcription import wer_summary
    from tests.factories.transcription import script_wer

    results = json.loads(results_path.read_text())
    with np.load(calls_path) as data:
        manifest = json.loads(str(data["manifest"]))
    total_s = sum(call["duration_s"] for call in manifest)
    print(f"machine: {results['machine']}")
    print(f"call set: {len(manifest)} calls, {total_s:.1f} s of audio, decoded here ({SAMPLE_RATE} Hz windows)")
    print(f"device {results['device']} ({results['compute_type']}), batch size {results['batch_size']}:")
    throughput = {}
    for mode, runs in results["runs"].items():
        wall = sum(run["wall_s"] for run in runs)
        throughput[mode] = total_s / wall
        wers: dict[str, list[float]] = {"en": [], "fi": []}
        for call, run in zip(manifest, runs, strict=True):
            if call["script"] and call["language"] in wers:
                draft = ScoredDraft(segments=run["segments"])
                wers[call["language"]].append(script_wer(draft, ROOT / call["script"]))  # type: ignore[arg-type]
        print(
            f"  {mode:10s} {wall:7.2f} s  throughput {throughput[mode]:6.2f} audio s / wall s",
            wer_summary(wers["en"]),
            wer_summary(wers["fi"], language="Finnish"),
            sep="  ",
        )
    print(
        f"  batched / sequential throughput: {throughput['batched'] / throughput['sequential']:.2f}x; per call, wall s:"
    )
    for call, sequential, batched in zip(
        manifest, results["runs"]["sequential"], results["runs"]["batched"], strict=True
    ):
        print(
            f"    {call['name']:26s} {call['duration_s']:6.1f} s audio  sequential {sequential['wall_s']:6.2f}"
            f"  batched {batched['wall_s']:6.2f}  ({sequential['wall_s'] / batched['wall_s']:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    prepare_step = steps.add_parser("prepare", help="here: decode the call set into an .npz")
    prepare_step.add_argument("out", type=Path)
    prepare_step.add_argument("--lengths", type=int, nargs="+", default=[1, 2, 3])
    time_step = steps.add_parser("time", help="there: sequential vs batched on the decoded calls")
    time_step.add_argument("calls", type=Path)
    time_step.add_argument("--model", type=Path, required=True, help="the CTranslate2 model directory")
    time_step.add_argument("--results", type=Path, required=True)
    time_step.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    time_step.add_argument("--batch-size", type=int, help="default: what the jobs process would pick there")
    score_step = steps.add_parser("score", help="here: throughputs and word error rates")
    score_step.add_argument("results", type=Path)
    score_step.add_argument("--calls", type=Path, required=True)
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.out, args.lengths)
    elif args.step == "time":
        time_engines(args.calls, model=args.model, device=args.device, batch_size=args.batch_size, results=args.results)
    else:
        score(args.results, args.calls)


if __name__ == "__main__":
    main()
