"""Speech-to-text engines behind one protocol: faster-whisper (default) and openai-whisper (optional).

Both always run with voice-activity filtering and a given language: without VAD, Whisper base fell
into repetition loops on 8 kHz phone calls, and auto-detection read Finnish telephone speech as Latin.
The pipeline passes a language whenever it knows one and detects only once per recording.

With a batch size above 1, faster-whisper decodes all channels of a call together (`BatchedFasterWhisperEngine`).
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, get_args, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from recordings_service.config import Settings
from recordings_service.recordings import Language
from recordings_service.transcription.model_files import DEFAULT_MODEL_NAME, ModelUnavailable, default_model_dir

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
Audio = NDArray[np.float32]
# With the default 400 ms padding, VAD glued a stereo channel's turns (silence in between: the other
# party speaking) into one breathless run; base then fell back to high temperatures, six times slower
# and less accurate on the English fixture. 800 ms keeps a pause between turns.
VAD_SPEECH_PAD_MS = 800
# The languages calls are in (`recordings.Language` but `auto`): a call sent as `auto` is taken for the likeliest of
# these. Left to pick among all of Whisper's, base took a Finnish call for Thai.
CALL_LANGUAGES = tuple(code for code in get_args(Language) if code != "auto")
# Batch size on a GPU when the setting is 0: it decodes many windows at once for about the cost of one.
GPU_BATCH_SIZE = 16
# On CPUs, one window a core, between 2 and 8: five minutes of a call's speech, both channels together, fill ten.
MIN_CPU_BATCH_SIZE = 2
MAX_CPU_BATCH_SIZE = 8


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class EngineSegment:
    """One decoded segment, times in seconds from the start of the audio the engine was given."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class EngineResult:
    language: str
    # Lazy: faster-whisper decodes as the caller iterates, which is what lets the caller report progress.
    segments: Iterator[EngineSegment]


class Engine(Protocol):
    name: str
    model: str

    def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult: ...


@dataclass(frozen=True)
class ChannelsResult:
    language: str
    # (index of the audio the segment belongs to, segment), lazily, one batch of windows at a time.
    segments: Iterator[tuple[int, EngineSegment]]


@runtime_checkable
class ChannelBatchingEngine(Engine, Protocol):
    """An engine that decodes several audios of one call (its channels) together."""

    def transcribe_channels(self, audios: Sequence[Audio], *, language: str | None) -> ChannelsResult: ...


@dataclass(frozen=True)
class EngineOptions:
    model: str
    device: str
    compute_type: str
    beam_size: int
    threads: int
    batch_size: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineOptions:
        return cls(
            model=settings.transcribe_model,
            device=settings.transcribe_device,
            compute_type=settings.transcribe_compute_type,
            beam_size=settings.transcribe_beam_size,
            threads=settings.transcribe_threads,
            batch_size=settings.transcribe_batch_size,
        )


class FasterWhisperEngine:
    """CTranslate2 Whisper: int8 on CPU, float16 on CUDA."""

    name = "faster-whisper"

    def __init__(self, model_path: str, *, label: str, options: EngineOptions) -> None:
        from faster_whisper import WhisperModel

        device = options.device if options.device != "auto" else _best_device()
        compute_type = options.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        self.model = label
        self._beam_size = options.beam_size
        try:
            # local_files_only: a model name is looked up in the local cache only, never downloaded.
            self._model = WhisperModel(
                model_path,
                device=device,
                compute_type=compute_type,
                cpu_threads=options.threads,
                local_files_only=True,
            )
        except Exception as exc:
            raise ModelUnavailable(f"faster-whisper cannot load model {label!r}: {type(exc).__name__}: {exc}") from exc

    def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult:
        segments, info = self._model.transcribe(
            audio,
            language=language or self.call_language(audio),
            beam_size=self._beam_size,
            word_timestamps=True,
            vad_filter=True,
            vad_parameters={"speech_pad_ms": VAD_SPEECH_PAD_MS},
        )
        return EngineResult(language=info.language, segments=(_from_faster(segment) for segment in segments))

    def call_language(self, audio: Audio) -> str | None:
        """The likeliest of `CALL_LANGUAGES` in `audio`'s speech."""
        from faster_whisper.vad import VadOptions

        # Unlike `transcribe`, `detect_language` takes its VAD options as the class only.
        vad = VadOptions(speech_pad_ms=VAD_SPEECH_PAD_MS)
        _, _, ranked = self._model.detect_language(audio, vad_filter=True, vad_parameters=vad)
        return likeliest_call_language(ranked)


def likeliest_call_language(ranked: Iterable[tuple[str, float]]) -> str | None:
    """Of Whisper's (language, probability) pairs, the likeliest call language; None when it ranked none."""
    scores = {code: probability for code, probability in ranked if code in CALL_LANGUAGES}
    return max(scores, key=scores.__getitem__) if scores else None


def _from_faster(segment: Any) -> EngineSegment:
    return EngineSegment(
        start=float(segment.start),
        end=float(segment.end),
        text=segment.text.strip(),
        words=tuple(
            Word(start=float(w.start), end=float(w.end), text=w.word.strip(), probability=float(w.probability))
            for w in segment.words or ()
        ),
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        compression_ratio=float(segment.compression_ratio),
    )


# Cross-attention heads that track word timing, per model shape (text layers, width, vocabulary).
# openai-whisper sets them only when it downloads a model by name; a local .pt otherwise falls back to
# "every head of the upper half", which smears word timings.
_OPENAI_MODEL_NAMES = {
    (4, 384, 51865): "tiny",
    (4, 384, 51864): "tiny.en",
    (6, 512, 51865): "base",
    (6, 512, 51864): "base.en",
    (12, 768, 51865): "small",
    (12, 768, 51864): "small.en",
    (24, 1024, 51865): "medium",
    (24, 1024, 51864): "medium.en",
    (32, 1280, 51866): "large-v3",
}


class OpenAIWhisperEngine:
    """The reference PyTorch implementation, an optional install (requirements-openai-whisper.txt)."""

    name = "openai-whisper"

    def __init__(self, model_path: str, *, label: str, options: EngineOptions) -> None:
        try:
            import torch
            import whisper
        except ImportError:
            raise ModelUnavailable(
                "the openai-whisper engine is not installed (pip install -r requirements-openai-whisper.txt)"
            ) from None
        path = Path(model_path)
        if not path.is_file():
            # whisper.load_model would download a name; nothing may be downloaded here.
            raise ModelUnavailable(f"openai-whisper needs a local .pt checkpoint; {model_path!r} is not a file")
        if options.threads:
            torch.set_num_threads(options.threads)
        device = options.device if options.device != "auto" else _best_device()
        self.model = label
        self._beam_size = options.beam_size
        self._fp16 = device == "cuda"
        try:
            self._model = whisper.load_model(str(path), device=device)
        except Exception as exc:
            raise ModelUnavailable(f"openai-whisper cannot load {label!r}: {type(exc).__name__}: {exc}") from exc
        dims = self._model.dims
        known = _OPENAI_MODEL_NAMES.get((dims.n_text_layer, dims.n_text_state, dims.n_vocab))
        if known is not None:
            self._model.set_alignment_heads(whisper._ALIGNMENT_HEADS[known])

    def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult:
        from faster_whisper.vad import SpeechTimestampsMap, VadOptions, collect_chunks, get_speech_timestamps

        # The same Silero VAD faster-whisper uses, so both engines hear the same speech.
        chunks = get_speech_timestamps(audio, VadOptions(speech_pad_ms=VAD_SPEECH_PAD_MS))
        if not chunks:
            return EngineResult(language=language or "", segments=iter(()))
        # Default max_duration: one chunk holding all the speech.
        speech = collect_chunks(audio, chunks)[0][0]
        timeline = SpeechTimestampsMap(chunks, SAMPLE_RATE)
        result = self._model.transcribe(
            speech,
            language=language or self._call_language(speech),
            beam_size=self._beam_size,
            word_timestamps=True,
            fp16=self._fp16,
        )
        segments = [_from_openai(raw, timeline) for raw in result["segments"]]
        return EngineResult(language=str(result["language"]), segments=iter(segments))

    def _call_language(self, speech: Audio) -> str | None:
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(speech), n_mels=self._model.dims.n_mels)
        _, probabilities = self._model.detect_language(mel.to(self._model.device))
        return likeliest_call_language(probabilities.items())


def _from_openai(raw: dict[str, Any], timeline: Any) -> EngineSegment:
    def restored(moment: float) -> float:
        return round(float(timeline.get_original_time(moment)), 3)

    return EngineSegment(
        start=restored(raw["start"]),
        end=restored(raw["end"]),
        text=str(raw["text"]).strip(),
        words=tuple(
            Word(
                start=restored(w["start"]),
                end=restored(w["end"]),
                text=str(w["word"]).strip(),
                probability=float(w["probability"]),
            )
            for w in raw.get("words", ())
        ),
        avg_logprob=float(raw["avg_logprob"]),
        no_speech_prob=float(raw["no_speech_prob"]),
        compression_ratio=float(raw["compression_ratio"]),
    )


def _best_device() -> str:
    try:
        import ctranslate2  # type: ignore[import-untyped]

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # noqa: BLE001 — no CUDA runtime at all means CPU
        return "cpu"


def default_batch_size(settings: Settings, *, cpu_count: int | None = None) -> int:
    """The batch size a jobs process uses when the setting is 0, from the device it will run on.

    On CPUs, one window per core (`cpu_count`, this machine's by default), 2 to 8. On 2 cores batch sizes 2
    and 4 gave 2.1x-3.5x the throughput of decoding each channel on its own, with word error rates no worse
    (`bench.transcription --batching`; the figures are in the README's performance table). The Finnish calls
    gain most: channel by channel, Whisper base decodes them again and again at rising temperatures, which
    sample at random, so that gain varies from run to run (one run measured 1.04x)."""
    device = settings.transcribe_device if settings.transcribe_device != "auto" else _best_device()
    if device == "cuda":
        return GPU_BATCH_SIZE
    cores = cpu_count if cpu_count is not None else os.cpu_count() or 1
    return min(MAX_CPU_BATCH_SIZE, max(MIN_CPU_BATCH_SIZE, cores))


def load_engine(settings: Settings) -> Engine:
    """The configured engine with its model loaded; `ModelUnavailable` says what is missing or broken."""
    options = EngineOptions.from_settings(settings)
    started = time.monotonic()
    kind = settings.transcribe_engine
    if kind == "faster-whisper":
        if options.model:
            path, label = options.model, Path(options.model).name or options.model
        else:
            path, label = str(default_model_dir(settings.data_dir)), DEFAULT_MODEL_NAME
        # Imported here: the batched engine builds on this module's engine and types.
        from recordings_service.transcription.batched import BatchedFasterWhisperEngine

        engine_class = BatchedFasterWhisperEngine if options.batch_size > 1 else FasterWhisperEngine
        engine: Engine = engine_class(path, label=label, options=options)
    elif kind == "openai-whisper":
        engine = OpenAIWhisperEngine(options.model, label=Path(options.model).stem, options=options)
    elif ":" in kind:
        engine = _custom_engine(kind, settings)
    else:
        raise ModelUnavailable(
            f"unknown CALLVAULT_TRANSCRIBE_ENGINE {kind!r}: use faster-whisper, openai-whisper or module:Class"
        )
    log.info(
        "transcription model loaded",
        extra={"engine": engine.name, "model": engine.model, "load_s": round(time.monotonic() - started, 2)},
    )
    return engine


def _custom_engine(dotted: str, settings: Settings) -> Engine:
    """An engine class named `module:Class` with a `from_settings(settings)` constructor (plug-ins, test fakes)."""
    module_name, _, class_name = dotted.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ModelUnavailable(f"transcription engine {dotted!r} cannot be imported: {exc}") from exc
    engine: Engine = factory.from_settings(settings)
    return engine
