"""An IVR's prompt (R5): uploaded (checked by content and converted to telephony
audio) or spoken from text by the installed speech engine, and removed.

Each change runs narrowed to the IVR's circle (``require_circle_scope``). Services
flush; the request commits.
"""

from __future__ import annotations

from pbx_platform import storage
from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.options import audio
from tenants.options.ivr.settings import IvrError
from tenants.options.models import Ivr


def _keep(ivr: Ivr, wav: bytes | None) -> None:
    """The prompt's file into the storage, under the circle's own folder. A replaced
    file is left to the storage sweep (files are never deleted inside a transaction;
    see ``tenants.options.recording.delete``)."""
    if wav is None:
        ivr.prompt_key = ivr.prompt_sha256 = ivr.prompt_bytes = None
    else:
        stored = storage.get_store().put(f"prompts/{ivr.circle_id}", [wav])
        ivr.prompt_key, ivr.prompt_sha256, ivr.prompt_bytes = (
            stored.key,
            stored.sha256,
            stored.size,
        )
    db.session.flush()


def read(ivr: Ivr) -> bytes:
    """The prompt's WAV (at most a minute of 8 kHz audio, so read whole)."""
    require_circle_scope(ivr.circle_id)
    if ivr.prompt_key is None:
        raise storage.Missing("no prompt")
    return storage.read_all(storage.get_store(), ivr.prompt_key)


def seconds(ivr: Ivr) -> float | None:
    """Length of the prompt from its size (8 kHz mono 16-bit after a 44-byte header)."""
    if ivr.prompt_bytes is None:
        return None
    return max(0, ivr.prompt_bytes - 44) / (audio.TELEPHONY_RATE * 2)


def upload_prompt(ivr: Ivr, data: bytes) -> None:
    """A prompt from an uploaded file, checked by content and converted (R5)."""
    require_circle_scope(ivr.circle_id)
    try:
        wav = audio.to_telephony_wav(data)
    except audio.AudioError as exc:
        raise IvrError({"prompt": str(exc)}) from exc
    with audit_action("ivr.prompt"):
        _keep(ivr, wav)
        ivr.prompt_source = "upload"
        ivr.prompt_text = None
        db.session.flush()


def speak_prompt(ivr: Ivr, raw_text: str) -> None:
    """A prompt spoken from text by the installed speech engine (R5)."""
    require_circle_scope(ivr.circle_id)
    text = audio.normalize_speech_text(raw_text)
    try:
        wav = audio.synthesize(text)
    except audio.AudioError as exc:
        raise IvrError({"speech_text": str(exc)}) from exc
    with audit_action("ivr.prompt"):
        _keep(ivr, wav)
        ivr.prompt_source = "speech"
        ivr.prompt_text = text
        db.session.flush()


def remove_prompt(ivr: Ivr) -> None:
    require_circle_scope(ivr.circle_id)
    with audit_action("ivr.prompt"):
        _keep(ivr, None)
        ivr.prompt_source = None
        ivr.prompt_text = None
        db.session.flush()
