"""R5 prompt audio: WAV checked by content, converted to 8 kHz mono 16-bit, MP3 through a
decoder when one is installed, and text-to-speech through espeak-ng."""

from __future__ import annotations

import io
import itertools
import math
import os
import random
import stat
import struct
import wave
from array import array
from pathlib import Path

import pytest

from tenants.options import audio


def tone(rate: int, seconds: float, freq: float = 440.0, amplitude: float = 0.5) -> list[float]:
    count = int(rate * seconds)
    return [amplitude * math.sin(2 * math.pi * freq * n / rate) for n in range(count)]


def make_wav(
    rate: int = 8000,
    channels: int = 1,
    width: int = 2,
    seconds: float = 0.5,
    freq: float = 440.0,
    signal: list[float] | None = None,
) -> bytes:
    """A PCM WAV built by ``wave`` (the same value on every channel)."""
    signal = signal if signal is not None else tone(rate, seconds, freq)
    frames = bytearray()
    for value in signal:
        if width == 1:
            sample = bytes([max(0, min(255, round(value * 127) + 128))])
        else:
            top = 2 ** (8 * width - 1) - 1
            sample = round(value * top).to_bytes(width, "little", signed=True)
        frames += sample * channels
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return buffer.getvalue()


def read_back(data: bytes) -> tuple[wave._wave_params, array]:
    with wave.open(io.BytesIO(data), "rb") as reader:
        params = reader.getparams()
        samples = array("h", reader.readframes(params.nframes))
    return params, samples


def assert_telephony(data: bytes, seconds: float) -> array:
    params, samples = read_back(data)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000)
    assert params.comptype == "NONE"
    assert abs(params.nframes - seconds * 8000) <= 2
    return samples


def zero_crossings(samples: array) -> int:
    return sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))


def peak(samples: array) -> int:
    return max(abs(s) for s in samples)


# --- conversion --------------------------------------------------------------------------


def test_8khz_mono_16bit_is_kept_sample_for_sample():
    original = make_wav(8000, 1, 2, 0.25)
    converted = audio.to_telephony_wav(original)
    assert read_back(converted)[1] == read_back(original)[1]


@pytest.mark.parametrize(
    ("rate", "channels", "width"),
    [(44100, 2, 2), (48000, 1, 2), (22050, 1, 1), (16000, 2, 3), (96000, 1, 4), (11025, 2, 1),
     (6000, 1, 2)],
)  # fmt: skip
def test_any_common_pcm_wav_becomes_8khz_mono_16bit(rate, channels, width):
    converted = audio.to_telephony_wav(make_wav(rate, channels, width, seconds=0.5, freq=440))
    samples = assert_telephony(converted, 0.5)
    # The tone survives: 440 Hz crosses zero 880 times a second, at about the same level.
    assert abs(zero_crossings(samples) - 440) <= 6
    assert 0.4 * 32767 < peak(samples) < 0.55 * 32767


def test_8bit_wav_is_unsigned_and_silence_stays_silent():
    converted = audio.to_telephony_wav(make_wav(8000, 1, 1, signal=[0.0] * 800))
    assert set(read_back(converted)[1]) == {0}


def test_downsampling_filters_tones_the_telephone_band_cannot_carry():
    # 7 kHz cannot exist at 8 kHz; picking samples would fold it to a loud 1 kHz tone.
    converted = audio.to_telephony_wav(make_wav(48000, 1, 2, seconds=0.5, freq=7000))
    assert peak(assert_telephony(converted, 0.5)) < 0.1 * 32767


def test_stereo_channels_are_averaged():
    frames = bytearray()
    for _ in range(8000):
        frames += struct.pack("<hh", 10000, -2000)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(bytes(frames))
    assert set(read_back(audio.to_telephony_wav(buffer.getvalue()))[1]) == {4000}


def test_wave_format_extensible_pcm_is_accepted():
    plain = make_wav(48000, 2, 3, seconds=0.2)
    fmt_body = plain[20:36]
    extensible = (
        fmt_body[:14]
        + struct.pack("<HHHI", 24, 22, 24, 3)  # bits, cbSize, valid bits, channel mask
        + struct.pack("<H", 1) + bytes.fromhex("000000001000800000aa00389b71")  # PCM GUID
    )  # fmt: skip
    extensible = struct.pack("<H", 0xFFFE) + extensible[2:]
    data_chunk = plain[36:]
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(extensible)) + extensible + data_chunk
    converted = audio.to_telephony_wav(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert_telephony(converted, 0.2)


def test_streamed_header_with_an_unknown_length_is_read_to_the_end():
    data = bytearray(make_wav(8000, 1, 2, seconds=0.5))
    struct.pack_into("<I", data, 4, 0xFFFFFFFF)
    struct.pack_into("<I", data, 40, 0xFFFFFFFF)  # the data chunk's size
    assert_telephony(audio.to_telephony_wav(bytes(data)), 0.5)


def test_exactly_60_seconds_is_accepted():
    assert_telephony(audio.to_telephony_wav(make_wav(8000, 1, 2, signal=[0.0] * 480000)), 60)


# --- refusals ----------------------------------------------------------------------------

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (SVG, "This file is not a WAV audio file."),
        (b"hello, this is text", "This file is not a WAV audio file."),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "This file is not a WAV audio file."),
        (b"", "The file is empty."),
        (b"RIFF\x10\x00\x00\x00WAVEjunkjunk", "The WAV file is damaged"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "The WAV file is damaged"),
    ],
)
def test_content_that_is_not_a_usable_wav_is_refused(data, message):
    with pytest.raises(audio.AudioError) as refused:
        audio.to_telephony_wav(data)
    assert message in str(refused.value)


def test_float_wav_is_refused():
    data = bytearray(make_wav(8000, 1, 2, seconds=0.1))
    struct.pack_into("<H", data, 20, 3)  # WAVE_FORMAT_IEEE_FLOAT
    with pytest.raises(audio.AudioError, match="not PCM"):
        audio.to_telephony_wav(bytes(data))


def test_more_than_two_channels_is_refused():
    with pytest.raises(audio.AudioError, match="mono or stereo"):
        audio.to_telephony_wav(make_wav(8000, 3, 2, seconds=0.1))


def test_a_wav_with_no_sound_is_refused():
    with pytest.raises(audio.AudioError, match="no sound"):
        audio.to_telephony_wav(make_wav(8000, 1, 2, signal=[]))


def test_longer_than_60_seconds_is_refused():
    with pytest.raises(audio.AudioError, match="longer than 60 seconds"):
        audio.to_telephony_wav(make_wav(8000, 1, 2, signal=[0.0] * 480001))


def test_larger_than_5_mb_is_refused_before_parsing():
    data = make_wav(8000, 1, 2, seconds=0.1) + bytes(audio.MAX_UPLOAD_BYTES)
    with pytest.raises(audio.AudioError, match="larger than 5 MB"):
        audio.to_telephony_wav(data)


# --- MP3 ---------------------------------------------------------------------------------

MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)


def test_mp3_is_recognised_by_content():
    assert audio.sniff(b"ID3\x04\x00" + bytes(20)) == "mp3"
    assert audio.sniff(MP3_FRAME) == "mp3"
    assert audio.sniff(SVG) is None


def test_mp3_without_a_decoder_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(audio, "mp3_decoder", lambda: None)
    with pytest.raises(audio.AudioError, match="no decoder is installed"):
        audio.to_telephony_wav(MP3_FRAME)


def fake_program(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-tool"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_mp3_goes_through_the_installed_decoder_with_the_format_forced(monkeypatch, tmp_path):
    decoded = tmp_path / "decoded.wav"
    decoded.write_bytes(make_wav(8000, 1, 2, seconds=0.3))
    args = tmp_path / "args"
    decoder = fake_program(tmp_path, f'echo "$@" > {args}\ncat > /dev/null\ncat {decoded}\n')
    monkeypatch.setattr(audio, "mp3_decoder", lambda: decoder)
    assert_telephony(audio.to_telephony_wav(MP3_FRAME), 0.3)
    called = args.read_text()
    assert "-f mp3 -i pipe:0" in called  # never probes the input's format
    assert "-ar 8000" in called and "-ac 1" in called


def test_a_decoder_that_fails_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(audio, "mp3_decoder", lambda: fake_program(tmp_path, "exit 1\n"))
    with pytest.raises(audio.AudioError, match="could not be decoded"):
        audio.to_telephony_wav(MP3_FRAME)


def test_a_decoder_that_hangs_is_stopped(monkeypatch, tmp_path):
    monkeypatch.setattr(audio, "mp3_decoder", lambda: fake_program(tmp_path, "exec sleep 5\n"))
    monkeypatch.setattr(audio, "TOOL_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(audio.AudioError, match="took too long"):
        audio.to_telephony_wav(MP3_FRAME)


# --- text-to-speech ----------------------------------------------------------------------


def test_speech_text_is_normalised():
    assert audio.normalize_speech_text(" ｵﾃﾞﾝﾜ\r\nありがとう\x00ございます ") == (
        "オデンワ ありがとう ございます"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the text to speak."),
        ("あ" * 201, "longer than 200 characters"),
        ("営業時間外です", "cannot read kanji"),
    ],
)
def test_speech_text_rules(text, message):
    assert message in (audio.speech_problem(text) or "")
    with pytest.raises(audio.AudioError, match=message):
        audio.synthesize(text)


def test_speech_without_an_engine_says_it_is_not_installed(monkeypatch):
    monkeypatch.setattr(audio, "speech_engine", lambda: None)
    with pytest.raises(audio.AudioError, match="not installed"):
        audio.synthesize("こんにちは")


def require_espeak() -> None:
    if audio.speech_engine() is None:
        reason = "espeak-ng is not installed (apt-get install espeak-ng)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must install it")
        print(f"skipped: {reason}")
        pytest.skip(reason)


def test_espeak_ng_speaks_japanese_into_a_telephony_wav():
    require_espeak()
    wav = audio.synthesize("おでんわ ありがとう ございます")
    params, samples = read_back(wav)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000)
    assert 0.5 < params.nframes / 8000 < 10
    assert peak(samples) > 1000  # speech, not silence


def test_a_text_starting_with_a_dash_is_spoken_not_taken_for_an_option():
    require_espeak()
    params, _ = read_back(audio.synthesize("--help ーー です"))
    assert params.nframes > 0


def test_corrupted_headers_give_a_clear_refusal_never_a_crash():
    rng = random.Random(5)
    original = make_wav(16000, 2, 2, seconds=0.05)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(4, 44)] = rng.randrange(256)
        try:
            converted = audio.to_telephony_wav(bytes(data))
        except audio.AudioError:
            continue
        params, _ = read_back(converted)
        assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000)
