"""An IVR's prompt (R5): uploaded (checked by content and converted to telephony
audio) or spoken from text by the installed speech engine, and removed.

Each change runs narrowed to the IVR's circle (``require_circle_scope``). Services
flush; the request commits.
"""

from __future__ import annotations

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.options import audio
from tenants.options.ivr.settings import IvrError
from tenants.options.models import Ivr


def upload_prompt(ivr: Ivr, data: bytes) -> None:
    """A prompt from an uploaded file, checked by content and converted (R5)."""
    require_circle_scope(ivr.circle_id)
    try:
        wav = audio.to_telephony_wav(data)
    except audio.AudioError as exc:
        raise IvrError({"prompt": str(exc)}) from exc
    with audit_action("ivr.prompt"):
        ivr.prompt_wav = wav
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
        ivr.prompt_wav = wav
        ivr.prompt_source = "speech"
        ivr.prompt_text = text
        db.session.flush()


def remove_prompt(ivr: Ivr) -> None:
    require_circle_scope(ivr.circle_id)
    with audit_action("ivr.prompt"):
        ivr.prompt_wav = None
        ivr.prompt_source = None
        ivr.prompt_text = None
        db.session.flush()
