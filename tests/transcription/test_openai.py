"""The optional openai-whisper engine on the same fixture and the same weights as the default engine.

Its checkpoint is built from the bundled CTranslate2 model (tests/whisper_checkpoint.py): nothing is
downloaded. Skipped when the optional install (requirements-openai-whisper.txt) is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings_service.config import Settings
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.engines import load_engine
from recordings_service.transcription.model_files import default_model_dir
from tests.factories.recordings import STEREO
from tests.factories.transcription import ENGLISH_MAX_WER, script_wer, transcribed_draft

pytest.importorskip("whisper", reason="openai-whisper is an optional install (requirements-openai-whisper.txt)")
pytest.importorskip("torch", reason="openai-whisper needs torch (requirements-openai-whisper.txt)")


def test_openai_whisper_transcribes_the_english_call_in_the_same_format(
    store: ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.whisper_checkpoint import write_openai_checkpoint

    data_dir = tmp_path_factory.mktemp("openai-model")
    checkpoint = write_openai_checkpoint(default_model_dir(data_dir), data_dir / "whisper-base.pt")
    settings = Settings(
        data_dir=data_dir,
        transcribe_engine="openai-whisper",
        transcribe_model=str(checkpoint),
        transcribe_threads=2,
        # Greedy: this checks the format and the accuracy; a beam of 5 made it 54 s of the suite's CPU, 12 s greedy.
        transcribe_beam_size=1,
    )
    # Sent as `auto`: the language is detected among the call languages (`CALL_LANGUAGES`), as the default engine's is.
    draft = transcribed_draft(store, envelope, load_engine(settings), STEREO, "auto")
    assert (draft.engine, draft.model, draft.language, draft.detected_language) == (
        "openai-whisper",
        "whisper-base",
        "en",
        "en",
    )
    assert script_wer(draft, STEREO.with_suffix(".txt")) < ENGLISH_MAX_WER
    assert {segment["speaker"] for segment in draft.segments} == {"agent", "customer"}
    assert all(segment["words"] for segment in draft.segments)


def test_openai_whisper_refuses_a_model_name_it_would_download(tmp_path: Path) -> None:
    from recordings_service.transcription.model_files import ModelUnavailable

    settings = Settings(data_dir=tmp_path, transcribe_engine="openai-whisper", transcribe_model="base")
    with pytest.raises(ModelUnavailable, match=r"local \.pt"):
        load_engine(settings)
