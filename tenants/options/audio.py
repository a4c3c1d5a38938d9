"""IVR prompt audio (R5): uploads checked by content, converted for telephony, and
prompts spoken from text.

Every prompt is stored as a WAV of 8,000 Hz, mono, 16-bit signed PCM: what the PBX
plays to callers. Conversion is pure Python (``wave`` and ``array``), so nothing
beyond the standard library is needed for WAV. Two optional programs widen what is
accepted, found on ``PATH`` and run without a shell, with a time-out:

* ``espeak-ng`` (Debian package ``espeak-ng``) speaks a text in Japanese;
* ``ffmpeg`` decodes MP3 uploads. Without it an MP3 upload is refused with a
  message saying so.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import unicodedata
import wave
from array import array
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from tenants.validation import normalized

TELEPHONY_RATE = 8000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SECONDS = 60
MAX_SPEECH_CHARS = 200
TOOL_TIMEOUT_SECONDS = 30
SPEECH_VOICE = "ja"
# Rates a recorder or an editor writes; anything outside is a damaged header.
MIN_RATE, MAX_RATE = 4000, 192000

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class AudioError(ValueError):
    """A prompt that cannot be used; ``str()`` is the message for the person."""


@dataclass(frozen=True)
class Pcm:
    """Decoded sound: signed 16-bit samples per channel, at ``rate`` Hz."""

    channels: list[array[int]]
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.channels[0]) / self.rate


def speech_engine() -> str | None:
    """The text-to-speech program, or None when it is not installed."""
    return shutil.which("espeak-ng")


def mp3_decoder() -> str | None:
    """The MP3 decoder, or None when it is not installed."""
    return shutil.which("ffmpeg")


def sniff(data: bytes) -> str | None:
    """What the bytes are, by their content (never by the file's name): wav, mp3 or None."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3":
        return "mp3"
    # An MPEG audio frame header: 11 sync bits, a known version and a known layer.
    if len(data) >= 4 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        version, layer = (data[1] >> 3) & 0x03, (data[1] >> 1) & 0x03
        if version != 0x01 and layer != 0x00:
            return "mp3"
    return None


def to_telephony_wav(data: bytes) -> bytes:
    """Check an uploaded prompt and convert it to 8 kHz mono 16-bit PCM WAV (R5).

    Accepted: PCM WAV (8, 16, 24 or 32-bit, mono or stereo, 4–192 kHz); MP3 when a
    decoder is installed. Refused: anything larger than 5 MB or longer than 60 s,
    and any other content, whatever the file is called.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise AudioError(
            _l("The file is larger than %(mb)d MB.", mb=MAX_UPLOAD_BYTES // (1024 * 1024))
        )
    if not data:
        raise AudioError(_l("The file is empty."))
    kind = sniff(data)
    if kind == "wav":
        pcm = decode_wav(data)
    elif kind == "mp3":
        pcm = decode_mp3(data)
    else:
        raise AudioError(_l("This file is not a WAV audio file."))
    return encode_wav(to_telephony(pcm))


def decode_wav(data: bytes) -> Pcm:
    """Parse a PCM WAV with ``wave``. A header written while streaming (a data size
    larger than the file, as ``espeak-ng --stdout`` and ``ffmpeg`` write to a pipe) is
    read up to the bytes actually present."""
    try:
        with wave.open(io.BytesIO(_extensible_as_plain_pcm(data)), "rb") as reader:
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    # ``wave`` raises Error, EOFError, RuntimeError, struct.error... on malformed input.
    except Exception as exc:
        raise AudioError(
            _l("The WAV file is damaged or not PCM (8, 16, 24 or 32-bit) audio.")
        ) from exc
    if channels not in (1, 2):
        raise AudioError(_l("Only mono or stereo WAV files can be used."))
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(_l("The WAV file's sample rate is not supported."))
    frame_size = channels * width
    frames = len(raw) // frame_size
    if frames == 0:
        raise AudioError(_l("The file contains no sound."))
    if frames > MAX_SECONDS * rate:
        raise AudioError(_l("The prompt is longer than %(s)d seconds.", s=MAX_SECONDS))
    samples = _as_int16(raw[: frames * frame_size], width)
    if channels == 1:
        return Pcm([samples], rate)
    return Pcm([samples[0::2], samples[1::2]], rate)


def decode_mp3(data: bytes) -> Pcm:
    """MP3 through the installed decoder, asked for 8 kHz mono 16-bit WAV directly."""
    decoder = mp3_decoder()
    if decoder is None:
        raise AudioError(
            _l(
                "MP3 files cannot be converted on this server (no decoder is installed). "
                "Upload a WAV file instead."
            )
        )
    command = [
        decoder, "-hide_banner", "-loglevel", "error",
        "-f", "mp3", "-i", "pipe:0",  # the input format is forced: no probing
        "-t", str(MAX_SECONDS + 1), "-vn",
        "-ac", "1", "-ar", str(TELEPHONY_RATE), "-acodec", "pcm_s16le", "-f", "wav", "pipe:1",
    ]  # fmt: skip
    output = _run(command, data, failure=_l("The MP3 file could not be decoded."))
    return decode_wav(output)


def speech_problem(text: str) -> str | None:
    """Why a text cannot be spoken, or None. The installed engine reads kana and
    Latin letters; it reads every kanji as "Chinese letter", so kanji are refused."""
    if not text:
        return str(_l("Enter the text to speak."))
    if len(text) > MAX_SPEECH_CHARS:
        return str(_l("The text is longer than %(n)d characters.", n=MAX_SPEECH_CHARS))
    if any(_is_kanji(ch) for ch in text):
        return str(
            _l("The speech engine cannot read kanji. Write the text in hiragana or katakana.")
        )
    return None


def normalize_speech_text(raw: str) -> str:
    """NFKC, and line breaks and other control characters become spaces."""
    text = normalized(raw)
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(text.split())


def synthesize(text: str) -> bytes:
    """Speak ``text`` (already normalised) in Japanese; return a telephony WAV.

    The text goes to the engine on standard input, never as an argument, so a text
    starting with ``-`` cannot be taken for an option.
    """
    problem = speech_problem(text)
    if problem:
        raise AudioError(problem)
    engine = speech_engine()
    if engine is None:
        raise AudioError(_l("Speech synthesis is not installed on this server."))
    output = _run(
        [engine, "-v", SPEECH_VOICE, "--stdin", "--stdout"],
        text.encode("utf-8"),
        failure=_l("Speech synthesis failed."),
    )
    return to_telephony_wav(output)


def encode_wav(samples: array[int], rate: int = TELEPHONY_RATE) -> bytes:
    """Mono 16-bit little-endian PCM WAV."""
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue()


def wav_seconds(data: bytes) -> float:
    """The length of a stored prompt."""
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.getnframes() / reader.getframerate()


def to_telephony(pcm: Pcm) -> array[int]:
    """Mono at 8 kHz: each channel resampled, then the channels averaged."""
    channels = [resample(samples, pcm.rate, TELEPHONY_RATE) for samples in pcm.channels]
    if len(channels) == 1:
        return channels[0]
    left, right = channels
    return array("h", ((a + b) >> 1 for a, b in zip(left, right, strict=True)))


def resample(samples: array[int], source_rate: int, target_rate: int) -> array[int]:
    """Change the sample rate of 16-bit samples.

    Down: each output sample is the mean of the input over its own time span (a box
    filter, integrated exactly across fractional edges), which keeps most of the
    aliasing a plain pick would fold into the telephone band. Up: linear interpolation.
    """
    count = len(samples)
    if source_rate == target_rate or count == 0:
        return array("h", samples)
    out_count = max(1, count * target_rate // source_rate)
    step = source_rate / target_rate
    out = array("h", bytes(2 * out_count))
    if step > 1:
        for k in range(out_count):
            start, end = k * step, min((k + 1) * step, count)
            i, j = int(start), int(end)
            total = sum(samples[i:j]) - (start - i) * samples[i]
            if j < count:
                total += (end - j) * samples[j]
            out[k] = _clip(total / (end - start))
    else:
        last = count - 1
        for k in range(out_count):
            position = k * step
            i = int(position)
            following = samples[i + 1] if i < last else samples[i]
            out[k] = _clip(samples[i] + (following - samples[i]) * (position - i))
    return out


def _clip(value: float) -> int:
    return max(-32768, min(32767, round(value)))


def _as_int16(raw: bytes, width: int) -> array[int]:
    """Little-endian PCM of any width → native signed 16-bit (the top 16 bits kept)."""
    if width == 1:  # 8-bit WAV is unsigned: 128 is silence
        high = raw.translate(bytes((v - 128) & 0xFF for v in range(256)))
        pairs = bytearray(2 * len(raw))
        pairs[1::2] = high
    elif width == 2:
        pairs = bytearray(raw)
    else:
        pairs = bytearray(2 * (len(raw) // width))
        pairs[0::2] = raw[width - 2 :: width]
        pairs[1::2] = raw[width - 1 :: width]
    samples = array("h", bytes(pairs))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _extensible_as_plain_pcm(data: bytes) -> bytes:
    """``wave`` (before Python 3.12) refuses WAVE_FORMAT_EXTENSIBLE even when the
    sub-format is plain PCM, as 24-bit recorders write it: relabel such a header."""
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size >= 40 and body + 26 <= len(data):
                (tag,) = struct.unpack_from("<H", data, body)
                (sub_format,) = struct.unpack_from("<H", data, body + 24)
                if tag == _WAVE_FORMAT_EXTENSIBLE and sub_format == _WAVE_FORMAT_PCM:
                    patched = bytearray(data)
                    struct.pack_into("<H", patched, body, _WAVE_FORMAT_PCM)
                    return bytes(patched)
            return data
        offset = body + size + (size & 1)
    return data


def _is_kanji(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or ch == "々"
    )


def _run(command: list[str], stdin: bytes, *, failure: object) -> bytes:
    try:
        result = subprocess.run(  # noqa: S603  (fixed program and options, no shell)
            command,
            input=stdin,
            capture_output=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioError(_l("Converting the audio took too long.")) from exc
    except OSError as exc:
        raise AudioError(str(failure)) from exc
    if result.returncode != 0 or not result.stdout:
        raise AudioError(str(failure))
    return result.stdout
