"""What QA supervisors do with calls: ingest, inbox import, search, review, evidence packages, waveforms."""
