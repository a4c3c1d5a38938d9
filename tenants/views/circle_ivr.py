"""R5 pages: the circle's IVRs, their settings (R18 save / cancel) and their prompts.

Routes on the shared circle blueprint, so both trees have them: ``/portal/ivr_service...``
for the circle login and ``/staff/circles/<id>/ivr_service...`` for its reseller's staff.
While the IVR option is held (a pending cancellation included, until its end date)
the pages work; after it, they say the option is not contracted and link to the
option list to buy it again (200), and changes and the prompt's audio are refused
(409, as on every option page: ``circle_admin``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.db import utcnow
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants import forms_ivr
from tenants.options import audio, services
from tenants.options import ivr as ivr_service
from tenants.options.dates import tokyo_today
from tenants.options.ivr import prompts
from tenants.options.models import Ivr, OptionKind
from tenants.views import circle_admin
from tenants.views.circle_admin import bp
from tenants.views.forms_util import validate_csrf_or_400

circle_admin.menu_item("ivrs", _l("IVR"))


def _not_contracted() -> Any:
    """None while the option is usable today; else the page that says it is not (a GET),
    or ``services.OptionNotContracted`` (a change)."""
    try:
        g.ivr_holding = services.require_contracted(g.circle, OptionKind.IVR, tokyo_today())
    except services.OptionNotContracted:
        if request.method == "POST":
            raise
        return render_template("tenants/circle/ivr_not_contracted.html")
    return None


def _ivr_or_404(ivr_id: int) -> Ivr:
    found = ivr_service.find_ivr(g.circle, ivr_id)
    if found is None:
        abort(404)
    return found


def _writable(view: Callable[..., Any]) -> Callable[..., Any]:
    """A change to the circle's IVRs: the form's CSRF token, the IVR of this circle
    (404 for another circle's), and the option contracted today (else 409)."""

    @wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        validate_csrf_or_400()
        if "ivr_id" in kwargs:
            kwargs["ivr"] = _ivr_or_404(kwargs.pop("ivr_id"))
        return _not_contracted() or view(**kwargs)

    return wrapper


def _list_page(errors: Mapping[str, str] | None = None, status: int = 200) -> Any:
    now = utcnow()
    items = ivr_service.circle_ivrs(g.circle)
    return render_template(
        "tenants/circle/ivrs.html",
        ivrs=items,
        open_now={ivr.id: ivr_service.is_open(ivr, now) for ivr in items},
        holding=g.ivr_holding,
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
    ), status


def _edit_page(
    ivr: Ivr,
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
    values: Mapping[str, str] | None = None,
) -> Any:
    choices = ivr_service.targets(g.circle).choices()
    return render_template(
        "tenants/circle/ivr_edit.html",
        ivr=ivr,
        values=values if values is not None else forms_ivr.form_values(ivr),
        errors=errors or {},
        choices=choices,
        choice_values={value for _, group in choices for value, _ in group},
        days=[(day, ivr_service.DAY_LABELS[day]) for day in ivr_service.DAYS],
        digits=list(ivr_service.DIGIT_FIELDS.items()),
        holding=g.ivr_holding,
        open_now=ivr_service.is_open(ivr, utcnow()),
        prompt_seconds=prompts.seconds(ivr),
        speech_available=audio.speech_engine() is not None,
        mp3_available=audio.mp3_decoder() is not None,
        limits={
            "upload_mb": audio.MAX_UPLOAD_BYTES // (1024 * 1024),
            "seconds": audio.MAX_SECONDS,
            "speech_chars": audio.MAX_SPEECH_CHARS,
            "answer": ivr_service.MAX_ANSWER_SECONDS,
            "channels_min": ivr_service.MIN_CHANNELS,
            "channels_max": ivr_service.MAX_CHANNELS,
        },
    ), status


@bp.get("/ivrs")
def ivrs() -> Any:
    """The circle's IVRs, and a form to add one."""
    return _not_contracted() or _list_page()


@bp.post("/ivrs")
@_writable
def create_ivr() -> Any:
    try:
        ivr = ivr_service.create_ivr(
            g.circle, request.form.get("extension", ""), request.form.get("display_name", "")
        )
    except ivr_service.IvrError as exc:
        return _list_page(exc.errors, 422)
    flash(_l("IVR %(ext)s added.", ext=ivr.unique.extension), "success")
    return redirect(url_for(".ivr_edit", ivr_id=ivr.id))


@bp.get("/ivrs/<int:ivr_id>")
def ivr_edit(ivr_id: int) -> Any:
    """The settings form, as saved ("cancel" comes back here: R18)."""
    ivr = _ivr_or_404(ivr_id)
    return _not_contracted() or _edit_page(ivr)


@bp.post("/ivrs/<int:ivr_id>")
@_writable
def ivr_save(ivr: Ivr) -> Any:
    """R18 "save changes": all the settings at once, or nothing."""
    try:
        typed = forms_ivr.ivr_input(request.form)
        settings = ivr_service.settings_from_input(g.circle, ivr, typed)
        ivr_service.update_ivr(
            g.circle, ivr, settings, version=form_version(request.form.get("edit_version"))
        )
    except StaleEdit:
        return refuse_stale(url_for(".ivr_edit", ivr_id=ivr.id))
    except ivr_service.IvrError as exc:
        return _edit_page(ivr, exc.errors, status=422, values=request.form)
    flash(_l("The changes were saved."), "success")
    return redirect(url_for(".ivr_edit", ivr_id=ivr.id))


@bp.post("/ivrs/<int:ivr_id>/delete")
@_writable
def ivr_delete(ivr: Ivr) -> Any:
    extension = ivr.unique.extension
    try:
        ivr_service.delete_ivr(g.circle, ivr)
    except ivr_service.IvrError as exc:
        return _edit_page(ivr, exc.errors, status=409)
    flash(_l("IVR %(ext)s deleted.", ext=extension or "—"), "success")
    return redirect(url_for(".ivrs"))


@bp.post("/ivrs/<int:ivr_id>/prompt")
@_writable
def ivr_upload_prompt(ivr: Ivr) -> Any:
    """An uploaded prompt (WAV; MP3 with a decoder), checked and converted."""
    upload = request.files.get("prompt")
    if upload is None or not upload.filename:
        return _edit_page(ivr, {"prompt": str(_l("Choose a file to upload."))}, status=422)
    # One byte past the limit is enough to know the file is too large.
    data = upload.stream.read(audio.MAX_UPLOAD_BYTES + 1)
    try:
        ivr_service.upload_prompt(ivr, data)
    except ivr_service.IvrError as exc:
        return _edit_page(ivr, exc.errors, status=422)
    flash(_l("The prompt was saved."), "success")
    return redirect(url_for(".ivr_edit", ivr_id=ivr.id))


@bp.post("/ivrs/<int:ivr_id>/speech")
@_writable
def ivr_speech_prompt(ivr: Ivr) -> Any:
    """A prompt spoken from text."""
    try:
        ivr_service.speak_prompt(ivr, request.form.get("speech_text", ""))
    except ivr_service.IvrError as exc:
        values = dict(forms_ivr.form_values(ivr), speech_text=request.form.get("speech_text", ""))
        return _edit_page(ivr, exc.errors, status=422, values=values)
    flash(_l("The prompt was created from the text."), "success")
    return redirect(url_for(".ivr_edit", ivr_id=ivr.id))


@bp.post("/ivrs/<int:ivr_id>/prompt/delete")
@_writable
def ivr_delete_prompt(ivr: Ivr) -> Any:
    ivr_service.remove_prompt(ivr)
    flash(_l("The prompt was removed."), "success")
    return redirect(url_for(".ivr_edit", ivr_id=ivr.id))


@bp.get("/ivrs/<int:ivr_id>/prompt.wav")
def ivr_prompt(ivr_id: int) -> Any:
    """The stored prompt, for the page's player (this circle's IVRs only)."""
    ivr = _ivr_or_404(ivr_id)
    services.require_contracted(g.circle, OptionKind.IVR, tokyo_today())
    if ivr.prompt_key is None:
        abort(404)
    response = Response(prompts.read(ivr), mimetype="audio/wav")
    response.headers["Content-Disposition"] = f'inline; filename="ivr-{ivr.id}.wav"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
