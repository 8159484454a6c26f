"""Transcription: engines behind one protocol, the per-recording pipeline and the leased work queue."""
