"""Speech-to-text engines behind one protocol: faster-whisper (default) and openai-whisper (optional).

Both always run with voice-activity filtering and a given language: without VAD, Whisper base fell
into repetition loops on 8 kHz phone calls, and auto-detection read Finnish telephone speech as Latin.
The pipeline passes a language whenever it knows one and detects only once per recording.

With a batch size above 1, faster-whisper decodes all channels of a call together (`BatchedFasterWhisperEngine`).
"""

from __future__ import annotations

import bisect
import importlib
import itertools
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from recordings_service.config import Settings
from recordings_service.transcription.model_files import DEFAULT_MODEL_NAME, ModelUnavailable, default_model_dir

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
Audio = NDArray[np.float32]
# With the default 400 ms padding, VAD glued a stereo channel's turns (silence in between: the other
# party speaking) into one breathless run; base then fell back to high temperatures, six times slower
# and less accurate on the English fixture. 800 ms keeps a pause between turns.
VAD_SPEECH_PAD_MS = 800
# Whisper decodes 30 s of audio at a time; a batched window never holds more.
WINDOW_S = 30
# Batch size on a GPU when the setting is 0: it decodes many windows at once for about the cost of one.
GPU_BATCH_SIZE = 16
# Whisper's own limits past which a decoded window is a loop or gibberish and is decoded again, warmer.
FALLBACK_COMPRESSION_RATIO = 2.4
FALLBACK_LOG_PROB = -1.0
# Tokens a batched window may decode: openai-whisper's own limit (half the text context), ample for 30 s of
# speech. A loop stops there instead of at 448; a window cut there is decoded again the sequential way.
MAX_WINDOW_TOKENS = 224


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
            language=language,
            beam_size=self._beam_size,
            word_timestamps=True,
            vad_filter=True,
            vad_parameters={"speech_pad_ms": VAD_SPEECH_PAD_MS},
        )
        return EngineResult(language=info.language, segments=(_from_faster(segment) for segment in segments))


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


@dataclass(frozen=True)
class _Region:
    """A voiced stretch of one audio (samples) and where it starts in the packed audio."""

    source: int
    start: int
    end: int
    packed_start: int


class BatchedFasterWhisperEngine(FasterWhisperEngine):
    """faster-whisper decoding a call's voiced regions, from all its channels, in batches of 30 s windows.

    The regions of every channel are laid end to end in the order they were spoken and packed into windows
    of up to 30 s; `batch_size` windows are decoded at once and each word goes back to its channel and time.
    Packing matters most on CPU: one channel of a short call rarely fills a window, and the encoder costs a
    full window however little speech it holds. A batch decodes at temperature 0 only, each window without the
    text before it; a window that comes out as a loop or gibberish is decoded again on its own, with Whisper's
    temperature fallback, as the sequential decoder would have.
    """

    def __init__(self, model_path: str, *, label: str, options: EngineOptions) -> None:
        from faster_whisper import BatchedInferencePipeline

        super().__init__(model_path, label=label, options=options)
        self.batch_size = options.batch_size
        self._pipeline = BatchedInferencePipeline(self._model)
        self._first_timestamp = self._model.hf_tokenizer.token_to_id("<|notimestamps|>") + 1

    def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult:
        result = self.transcribe_channels([audio], language=language)
        return EngineResult(language=result.language, segments=(segment for _, segment in result.segments))

    def transcribe_channels(self, audios: Sequence[Audio], *, language: str | None) -> ChannelsResult:
        regions = _voiced_regions(audios)
        if not regions:
            return ChannelsResult(language=language or "", segments=iter(()))
        windows = _packed_windows(regions)
        segments, info = self._pipeline.transcribe(
            _joined(audios, regions),
            language=language,
            beam_size=self._beam_size,
            word_timestamps=True,
            # With timestamps a window is split into sentences, as the sequential decoder splits it.
            without_timestamps=False,
            clip_timestamps=[_clip(window) for window in windows],
            batch_size=self.batch_size,
            max_new_tokens=MAX_WINDOW_TOKENS,
        )
        return ChannelsResult(
            language=info.language, segments=self._checked(audios, windows, segments, language=info.language)
        )

    def _checked(
        self, audios: Sequence[Audio], windows: list[list[_Region]], segments: Iterable[Any], *, language: str
    ) -> Iterator[tuple[int, EngineSegment]]:
        """The decoded segments back on their channels; a window that failed is decoded again the sequential way."""
        starts = [window[0].packed_start for window in windows]
        # Every segment of a window carries the window's start as `seek`, in whole frames (rounded down).
        for seek, in_window in itertools.groupby(segments, key=lambda segment: segment.seek):
            window = windows[bisect.bisect_right(starts, (seek + 1) / self._model.frames_per_second * SAMPLE_RATE) - 1]
            decoded = list(in_window)
            found = [_from_faster(segment) for segment in decoded]
            # Per segment, not over the window: a window packed with a call's repeated phrases ("thank you") is
            # not a loop; a loop repeats within a segment.
            worst_ratio = max(segment.compression_ratio for segment in found)
            worst_logprob = min(segment.avg_logprob for segment in found)
            # A window Whisper finished ends on a timestamp; one cut at MAX_WINDOW_TOKENS ends inside the text.
            cut_short = decoded[-1].tokens[-1] < self._first_timestamp
            if worst_ratio <= FALLBACK_COMPRESSION_RATIO and worst_logprob >= FALLBACK_LOG_PROB and not cut_short:
                for segment in found:
                    yield from _unpacked(segment, window)
            else:
                yield from self._channel_by_channel(audios, window, language=language)

    def _channel_by_channel(
        self, audios: Sequence[Audio], window: list[_Region], *, language: str
    ) -> Iterator[tuple[int, EngineSegment]]:
        """The window's speech decoded one channel at a time, with Whisper's temperature fallback."""
        for source in sorted({region.source for region in window}):
            own = _laid_end_to_end(
                (region.source, region.start, region.end) for region in window if region.source == source
            )
            again, _ = self._model.transcribe(
                _joined(audios, own), language=language, beam_size=self._beam_size, word_timestamps=True
            )
            for segment in again:
                yield from _unpacked(_from_faster(segment), own)


def _voiced_regions(audios: Sequence[Audio]) -> list[_Region]:
    """Every audio's speech (the same Silero VAD and padding as sequential decoding), in the order it was spoken."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(speech_pad_ms=VAD_SPEECH_PAD_MS, max_speech_duration_s=WINDOW_S)
    spoken = sorted(
        (chunk["start"], source, chunk["end"])
        for source, audio in enumerate(audios)
        for chunk in get_speech_timestamps(audio, options)
    )
    return _laid_end_to_end((source, start, end) for start, source, end in spoken)


def _laid_end_to_end(spans: Iterable[tuple[int, int, int]]) -> list[_Region]:
    """(source, start, end) spans as regions of one packed audio, in the given order."""
    regions = []
    packed_start = 0
    for source, start, end in spans:
        regions.append(_Region(source=source, start=start, end=end, packed_start=packed_start))
        packed_start += end - start
    return regions


def _joined(audios: Sequence[Audio], regions: list[_Region]) -> Audio:
    return np.concatenate([audios[region.source][region.start : region.end] for region in regions])


def _packed_windows(regions: list[_Region]) -> list[list[_Region]]:
    """The regions in windows of up to WINDOW_S each (a region is never cut: VAD keeps each under WINDOW_S)."""
    windows: list[list[_Region]] = [[]]
    for region in regions:
        window = windows[-1]
        if window and region.end - region.start + region.packed_start - window[0].packed_start > WINDOW_S * SAMPLE_RATE:
            windows.append([])
        windows[-1].append(region)
    return windows


def _clip(window: list[_Region]) -> dict[str, float]:
    """The window as faster-whisper's clip timestamps: seconds of the packed audio."""
    last = window[-1]
    return {
        "start": window[0].packed_start / SAMPLE_RATE,
        "end": (last.packed_start + last.end - last.start) / SAMPLE_RATE,
    }


def _unpacked(segment: EngineSegment, regions: list[_Region]) -> Iterator[tuple[int, EngineSegment]]:
    """The segment back in its audios' own time: one part per run of words from the same audio."""
    from faster_whisper.transcribe import get_compression_ratio

    starts = [region.packed_start for region in regions]

    def region_at(moment: float) -> _Region:
        return regions[max(bisect.bisect_right(starts, moment * SAMPLE_RATE) - 1, 0)]

    def restored(moment: float, region: _Region) -> float:
        sample = region.start + moment * SAMPLE_RATE - region.packed_start
        # A word the alignment stretched over the seam between two regions stays inside its own.
        return round(min(max(sample, region.start), region.end) / SAMPLE_RATE, 3)

    if not segment.words:
        region = region_at((segment.start + segment.end) / 2)
        yield region.source, replace(segment, start=restored(segment.start, region), end=restored(segment.end, region))
        return
    runs: list[tuple[int, list[Word]]] = []
    for word in segment.words:
        region = region_at((word.start + word.end) / 2)
        placed = replace(word, start=restored(word.start, region), end=restored(word.end, region))
        if runs and runs[-1][0] == region.source:
            runs[-1][1].append(placed)
        else:
            runs.append((region.source, [placed]))
    for source, words in runs:
        # As faster-whisper restores VAD-cut segments: a segment spans its words.
        part = replace(segment, start=words[0].start, end=words[-1].end, words=tuple(words))
        if len(runs) > 1:
            text = " ".join(word.text for word in words)
            part = replace(part, text=text, compression_ratio=get_compression_ratio(text))
        yield source, part


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
            language=language,
            beam_size=self._beam_size,
            word_timestamps=True,
            fp16=self._fp16,
        )
        segments = [_from_openai(raw, timeline) for raw in result["segments"]]
        return EngineResult(language=str(result["language"]), segments=iter(segments))


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


def default_batch_size(settings: Settings) -> int:
    """The batch size a jobs process uses when the setting is 0, from the device it will run on.

    On CPUs, 1 (each channel on its own, with every core on one window): measured on 2 cores
    (`bench.transcription --batching`), batching was 1.19x faster over the mixed call set but 0.80x on the
    Finnish calls, which Whisper base decodes again and again at rising temperatures, and batches decode at
    temperature 0 only; most of this service's calls are Finnish."""
    device = settings.transcribe_device if settings.transcribe_device != "auto" else _best_device()
    return GPU_BATCH_SIZE if device == "cuda" else 1


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
