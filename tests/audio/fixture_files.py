"""The committed audio fixtures: one file per accepted container and codec, with what a probe must find."""

# FFmpeg names the MP4 family by every alias at once.
M4A = "mov,mp4,m4a,3gp,3g2,mj2"

FIXTURES = [
    ("codec_pcm8.wav", "wav", "pcm_u8", 8000, 1, 2.0),
    ("codec_pcm16.wav", "wav", "pcm_s16le", 8000, 1, 2.0),
    ("codec_pcm24.wav", "wav", "pcm_s24le", 8000, 1, 2.0),
    ("codec_pcm32.wav", "wav", "pcm_s32le", 8000, 1, 2.0),
    ("codec_mulaw.wav", "wav", "pcm_mulaw", 8000, 1, 2.0),
    ("codec_alaw.wav", "wav", "pcm_alaw", 8000, 1, 2.0),
    ("codec_gsm.wav", "wav", "gsm_ms", 8000, 1, 2.0),
    ("codec_ima_adpcm.wav", "wav", "adpcm_ima_wav", 8000, 1, 2.0),
    ("codec.mp3", "mp3", "mp3", 16000, 1, 2.0),
    ("codec_opus.ogg", "ogg", "opus", 48000, 1, 2.0),
    ("codec_vorbis.ogg", "ogg", "vorbis", 16000, 1, 2.0),
    ("codec_stereo.flac", "flac", "flac", 16000, 2, 2.0),
    ("codec_aac.m4a", M4A, "aac", 16000, 1, 2.0),
    ("codec_pcm16.aiff", "aiff", "pcm_s16be", 16000, 1, 2.0),
    ("codec_mulaw.au", "au", "pcm_mulaw", 8000, 1, 2.0),
    ("call_en_stereo.wav", "wav", "pcm_mulaw", 8000, 2, 23.68),
    ("call_fi_stereo.wav", "wav", "pcm_mulaw", 8000, 2, 26.68),
    ("call_mono.wav", "wav", "pcm_s16le", 8000, 1, 5.22),
]


# A stereo call built from the English fixture's turns, with known silences and overtalk (agent left):
# the agent 0.5–3.52 s, nobody 3.52–7.0 s, the agent 7.0–12.16 s, the customer 9.0–13.94 s over them,
# nobody 13.94–17.0 s.
OVERTALK_CALL_S = 17.0
OVERTALK_CALL_SILENCES = [(3.52, 7.0), (13.94, 17.0)]
OVERTALK_CALL_OVERTALK = [(9.0, 12.16)]
# (where it is placed, channel: 0 agent/left, 1 customer/right, span taken from call_en_stereo.wav)
_OVERTALK_CALL_TURNS = [(0.5, 0, (0.5, 3.52)), (7.0, 0, (9.26, 14.42)), (9.0, 1, (3.92, 8.86))]


def overtalk_call(ffmpeg: str, *, rate: int = 8000) -> bytes:
    """`OVERTALK_CALL_S` seconds of µ-law stereo WAV laid out as above, decoded and encoded by real ffmpeg."""
    import subprocess
    import tempfile
    from pathlib import Path

    import numpy as np

    source = Path(__file__).parents[1] / "data" / "call_en_stereo.wav"

    def run(args: list[str], stdin: bytes | None = None) -> bytes:
        done = subprocess.run(
            [ffmpeg, "-nostdin", "-v", "error", *args], input=stdin, capture_output=True, check=True, timeout=60
        )
        return done.stdout

    raw = run(["-i", str(source), "-f", "f32le", "-ac", "2", "-ar", str(rate), "-"])
    speech = np.frombuffer(raw, dtype=np.float32).reshape(-1, 2)
    out = np.zeros((round(OVERTALK_CALL_S * rate), 2), dtype=np.float32)
    for at, channel, (start, end) in _OVERTALK_CALL_TURNS:
        part = speech[round(start * rate) : round(end * rate), channel]
        out[round(at * rate) : round(at * rate) + len(part), channel] += part
    pcm = np.clip(out, -1, 1).astype("<f4").tobytes()
    with tempfile.TemporaryDirectory() as scratch:  # a file, not a pipe: the WAV header then has its sizes
        wav = Path(scratch) / "call.wav"
        run(["-f", "f32le", "-ac", "2", "-ar", str(rate), "-i", "-", "-c:a", "pcm_mulaw", str(wav)], pcm)
        return wav.read_bytes()
