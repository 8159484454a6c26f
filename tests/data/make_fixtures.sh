#!/usr/bin/env bash
# Regenerates the audio fixtures in tests/data. Run once by a developer, never by the tests:
#   apt-get install -y espeak-ng sox && tests/data/make_fixtures.sh
# Needs espeak-ng, sox and the ffmpeg that imageio-ffmpeg ships (found through the venv's Python).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
ffmpeg="$("$python" -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Deterministic output: no encoder tags, no metadata, no dither.
ff() { "$ffmpeg" -hide_banner -loglevel error -nostdin -y "$@"; }
ffout=(-map_metadata -1 -fflags +bitexact -flags:a +bitexact)
sox_q() { sox -V1 -D "$@"; }

# --- codec fixtures: 2.0 s of speech over a quiet 440 Hz tone ------------------------------------
espeak-ng -v en-us -s 190 -w "$work/phrase.wav" "Callvault codec test."
sox_q "$work/phrase.wav" -r 16000 -c 1 "$work/phrase16k.wav" pad 0.1 trim 0 2.0 pad 0 2.0 trim 0 2.0
sox_q -n -r 16000 -c 1 "$work/tone.wav" synth 2.0 sine 440 vol 0.05
sox_q -m "$work/phrase16k.wav" "$work/tone.wav" -b 16 "$work/src16k.wav"
sox_q "$work/src16k.wav" -r 8000 "$work/src8k.wav"
sox_q "$work/src16k.wav" -c 2 "$work/src16k_stereo.wav"

ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_u8 "$here/codec_pcm8.wav"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_s16le "$here/codec_pcm16.wav"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_s24le "$here/codec_pcm24.wav"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_s32le "$here/codec_pcm32.wav"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_mulaw "$here/codec_mulaw.wav"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_alaw "$here/codec_alaw.wav"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a adpcm_ima_wav "$here/codec_ima_adpcm.wav"
# This ffmpeg build has no GSM encoder; sox writes GSM 6.10 in WAV (format tag 0x31, 65-byte blocks).
sox_q "$work/src8k.wav" -e gsm-full-rate "$here/codec_gsm.wav"
ff -i "$work/src16k.wav" "${ffout[@]}" -c:a libmp3lame -b:a 32k "$here/codec.mp3"
ff -i "$work/src16k.wav" "${ffout[@]}" -c:a libopus -b:a 16k "$here/codec_opus.ogg"
ff -i "$work/src16k.wav" "${ffout[@]}" -c:a libvorbis -q:a 0 "$here/codec_vorbis.ogg"
ff -i "$work/src16k_stereo.wav" "${ffout[@]}" -c:a flac "$here/codec_stereo.flac"
ff -i "$work/src16k.wav" "${ffout[@]}" -c:a aac -b:a 24k "$here/codec_aac.m4a"
ff -i "$work/src16k.wav" "${ffout[@]}" -c:a pcm_s16be "$here/codec_pcm16.aiff"
ff -i "$work/src8k.wav" "${ffout[@]}" -c:a pcm_mulaw "$here/codec_mulaw.au"

# --- calls: each turn on its speaker's channel only, silence on the other -------------------------
# make_call OUT AGENT_VOICE CUSTOMER_VOICE SCRIPT_FILE CHANNELS [RATE_WPM, default 170]
# SCRIPT_FILE holds lines "agent: text" / "customer: text"; OUT.txt gets "start end speaker: text".
make_call() {
    local out="$1" agent_voice="$2" customer_voice="$3" script="$4" channels="$5" rate="${6:-170}"
    local t=0.5 i=0 parts=() speaker text dur start
    : >"$out.txt"
    sox_q -n -r 8000 -c "$channels" "$work/gap_lead.wav" trim 0 0.5
    sox_q -n -r 8000 -c "$channels" "$work/gap.wav" trim 0 0.4
    parts+=("$work/gap_lead.wav")
    while IFS= read -r line; do
        [ -z "$line" ] && continue
        speaker="${line%%:*}"
        text="${line#*: }"
        i=$((i + 1))
        if [ "$speaker" = agent ]; then voice="$agent_voice"; remix="1 0"; else voice="$customer_voice"; remix="0 1"; fi
        espeak-ng -v "$voice" -s "$rate" -w "$work/turn$i.raw.wav" "$text"
        # Telephone band (300-3400 Hz), 8 kHz; in stereo the other channel is silent.
        if [ "$channels" = 2 ]; then
            sox_q "$work/turn$i.raw.wav" -r 8000 -b 16 "$work/turn$i.wav" highpass 300 lowpass 3400 remix $remix
        else
            sox_q "$work/turn$i.raw.wav" -r 8000 -b 16 "$work/turn$i.wav" highpass 300 lowpass 3400
        fi
        dur="$(soxi -D "$work/turn$i.wav")"
        start="$t"
        t="$(awk -v a="$t" -v b="$dur" 'BEGIN { printf "%.6f", a + b }')"
        printf '%.2f %.2f %s: %s\n' "$start" "$t" "$speaker" "$text" >>"$out.txt"
        t="$(awk -v a="$t" 'BEGIN { printf "%.6f", a + 0.4 }')"
        parts+=("$work/turn$i.wav" "$work/gap.wav")
    done <"$script"
    sox_q "${parts[@]}" "$work/call.wav"
    if [ "$channels" = 2 ]; then
        ff -i "$work/call.wav" "${ffout[@]}" -c:a pcm_mulaw "$out.wav"
    else
        ff -i "$work/call.wav" "${ffout[@]}" -c:a pcm_s16le "$out.wav"
    fi
}

cat >"$work/en.txt" <<'EOF'
agent: Northern Energy, this is Anna. How can I help?
customer: Hi. My electricity contract ends next month, and I want to renew it.
agent: I can offer a fixed price of 8.9 cents per kilowatt hour for 24 months.
customer: That sounds good. I agree to that.
agent: Great. The new contract starts on the first of June.
customer: Thank you. Goodbye.
EOF
make_call "$here/call_en_stereo" en-gb+f3 en-us+m3 "$work/en.txt" 2

cat >"$work/fi.txt" <<'EOF'
agent: Pohjolan Energia, Anna puhelimessa. Miten voin auttaa?
customer: Hei. Sähkösopimukseni päättyy ensi kuussa, ja haluan jatkaa sitä.
agent: Voin tarjota kiinteän hinnan, 8,9 senttiä kilowattitunnilta, 24 kuukaudeksi.
customer: Hyvä, hyväksyn sen.
agent: Hienoa. Uusi sopimus alkaa kesäkuun alussa.
customer: Kiitos. Näkemiin.
EOF
make_call "$here/call_fi_stereo" fi+f3 fi+m3 "$work/fi.txt" 2

cat >"$work/mono.txt" <<'EOF'
agent: Northern Energy, how can I help?
customer: I would like to check my bill.
EOF
make_call "$here/call_mono" en-gb+f3 en-us+m3 "$work/mono.txt" 1

# A customer reads out a (synthetic, Luhn-valid) card number and its security code, slowly (140 wpm)
# so that Whisper base writes the digits: the audio and PCI redaction tests mute exactly these spans.
# The customer's voice is plain en-us: with en-us+m3 Whisper hears "nine" as "I" ("453-I-148-…").
cat >"$work/card.txt" <<'EOF'
customer: I would like to pay my open invoice by card.
agent: Could you read me your card number and the security code on the back, please?
customer: Yes, my card number is 4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7 and the security code is 7 3 1.
agent: Thank you, the payment is done.
EOF
make_call "$here/call_card_en_stereo" en-gb+f3 en-us "$work/card.txt" 2 140

du -ch "$here"/codec* "$here"/call_* | tail -1
