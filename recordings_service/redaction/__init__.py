"""PII in transcripts: `find_pii` finds personal data in an utterance, `redact_text` replaces it with `[KIND]`."""

from recordings_service.redaction.pii import find_pii, redact_text

__all__ = ["find_pii", "redact_text"]
