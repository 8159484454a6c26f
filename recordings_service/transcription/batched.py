"""Batched decoding: a call's voiced regions, from all its channels, packed into 30 s windows and decoded
several windows at a time by faster-whisper, each word mapped back to its channel and time."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from recordings_service.transcription.engines import (
    SAMPLE_RATE,
    VAD_SPEECH_PAD_MS,
    Audio,
    ChannelsResult,
    EngineOptions,
    EngineResult,
    EngineSegment,
    FasterWhisperEngine,
    Word,
    _from_faster,
)
from recordings_service.word_spans import words_as_written

# Whisper decodes 30 s of audio at a time; a batched window never holds more.
WINDOW_S = 30
# Whisper's own limits past which a decoded window is a loop or gibberish and is decoded again, warmer.
FALLBACK_COMPRESSION_RATIO = 2.4
FALLBACK_LOG_PROB = -1.0
# Tokens a batched window may decode: openai-whisper's own limit (half the text context), ample for 30 s of
# speech. A loop stops there instead of at 448; a window cut there is decoded again the sequential way.
MAX_WINDOW_TOKENS = 224


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
        joined = _joined(audios, regions)
        segments, info = self._pipeline.transcribe(
            joined,
            language=language or self.call_language(joined),
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
    runs: list[tuple[int, int, list[Word]]] = []  # (source, index of its first word, its words)
    for index, word in enumerate(segment.words):
        region = region_at((word.start + word.end) / 2)
        placed = replace(word, start=restored(word.start, region), end=restored(word.end, region))
        if runs and runs[-1][0] == region.source:
            runs[-1][2].append(placed)
        else:
            runs.append((region.source, index, [placed]))
    said = [word.text for word in segment.words]
    for source, first, words in runs:
        # As faster-whisper restores VAD-cut segments: a segment spans its words.
        part = replace(segment, start=words[0].start, end=words[-1].end, words=tuple(words))
        if len(runs) > 1:
            text = words_as_written(segment.text, said, first, first + len(words) - 1)
            part = replace(part, text=text, compression_ratio=get_compression_ratio(text))
        yield source, part
