"""The end-of-run scan finds what must never be logged."""

from __future__ import annotations

from tests.log_scan import personal_data_in, spoken_words


def test_scan_finds_customer_refs_tokens_secrets_and_spoken_words() -> None:
    words = spoken_words()
    assert "electricity" in words and "kilowattitunnilta" in words
    log = (
        '{"message": "ingested", "customer": "cust-1a2b"}\n'
        '{"message": "auth", "token": "cvt_abcdefghijklmnopqrstuvwxyz0123"}\n'
        '{"message": "oops", "text": "my electricity contract"}\n'
        '{"message": "key", "value": "s3cr3t-value-123"}\n'
    )
    found = personal_data_in(log, {"s3cr3t-value-123", *words})
    assert "cust-1a2b" in found
    assert "cvt_abcdefghijklmnopqrstuvwxyz0123" in found
    assert "electricity" in found
    assert "s3cr3t-value-123" in found


def test_scan_passes_a_log_of_ids_and_counts() -> None:
    log = '{"message": "transcription run", "transcribed": 3, "recording": "01M8C17MZFJBJD263R8001ZSPA"}\n'
    assert personal_data_in(log, spoken_words()) == []
