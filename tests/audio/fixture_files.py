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
