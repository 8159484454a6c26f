"""The training library: samples of calls, nominations, clips cut from redacted audio, and training sets."""
