"""Transcription: engines behind one protocol, the per-recording pipeline, the leased queue and the search index."""
