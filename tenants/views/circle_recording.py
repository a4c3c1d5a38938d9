"""R6 recording settings and downloads; R7/R8 monitoring and whispering ticks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.db import db
from pbx_platform.permissions import Action, allowed
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.options import licences, recording, services
from tenants.options.dates import tokyo_today
from tenants.options.models import OptionKind, Recording
from tenants.views.circle_admin import bp, menu_item, needs
from tenants.views.forms_util import parse_quantity, validate_csrf_or_400

menu_item("recording_settings", _l("Call recording"))
menu_item("licences_settings", _l("Monitoring and whispering"))


def _ids(name: str) -> set[int]:
    """Ticked ids; anything that is not a number cannot be a unique of this circle."""
    values = request.form.getlist(name)
    if any(not v.isdigit() or len(v) > 12 for v in values):
        abort(400)
    return {int(v) for v in values}


def _recording_page(status: int = 200, errors: list[str] | None = None) -> Any:
    today = tokyo_today()
    holding = services.holding(g.circle, OptionKind.CALL_RECORDING, today)
    return render_template(
        "tenants/circle/recording.html",
        holding=holding,
        usage=recording.usage(g.circle),
        uniques=recording.phone_uniques(g.circle),
        downloads=recording.downloads_allowed(g.circle, today),
        today=today,
        default_from=today - timedelta(days=6),
        can_set_limit=allowed(current_user._get_current_object(), Action.RECORDING_LIMIT_SET),
        errors=errors or [],
    ), status


@bp.get("/recording")
def recording_settings() -> Any:
    """R6 settings: storage used, per-unique refusal ticks; save / cancel (R18)."""
    return _recording_page()


@bp.post("/recording")
def save_recording_settings() -> Any:
    validate_csrf_or_400()
    try:
        recording.save_refusals(
            g.circle,
            _ids("refuse"),
            tokyo_today(),
            version=form_version(request.form.get("edit_version")),
        )
    except StaleEdit:
        return refuse_stale(url_for(".recording_settings"))
    except recording.RecordingError as exc:
        return _recording_page(422, [str(exc)])
    flash(_l("The recording settings have been saved."), "success")
    return redirect(url_for(".recording_settings"))


@bp.post("/recording/limit")
@needs(Action.RECORDING_LIMIT_SET)
def set_recording_limit() -> Any:
    """Only the reseller raises the 100 GB limit (R6; its admins, R22), and only while
    the circle holds full call recording (409 otherwise, whatever the form holds)."""
    validate_csrf_or_400()
    today = tokyo_today()
    services.require_contracted(g.circle, OptionKind.CALL_RECORDING, today)
    value, error = parse_quantity(request.form.get("limit_gb", ""), maximum=recording.MAX_LIMIT_GB)
    if error or value is None:
        return _recording_page(422, [error or ""])
    recording.set_limit(g.circle, value, today)
    flash(_l("The storage limit has been saved."), "success")
    return redirect(url_for(".recording_settings"))


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


@bp.get("/recording/archive")
def recording_archive() -> Any:
    """R6: the recordings of a day range as one ZIP; refused once recording has ended."""
    recording.require_downloads(g.circle, tokyo_today())
    first, last = _parse_day(request.args.get("from")), _parse_day(request.args.get("to"))
    if first is None or last is None:
        return _recording_page(422, [str(_l("Enter the dates as YYYY-MM-DD."))])
    try:
        found = recording.recordings_between(g.circle, first, last)
    except recording.RecordingError as exc:
        return _recording_page(422, [str(exc)])
    if not found:
        return _recording_page(404, [str(_l("No recordings in that period."))])
    response = Response(recording.zip_archive(found), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="recordings-{first:%Y%m%d}-{last:%Y%m%d}.zip"'
    )
    return response


@bp.get("/recording/<int:recording_id>.wav")
def recording_wav(recording_id: int) -> Any:
    """One recording as WAV (the call history links here)."""
    found = db.session.get(Recording, recording_id)
    if found is None or found.circle_id != g.circle.id:
        abort(404)
    recording.require_downloads(g.circle, tokyo_today())
    response = Response(recording.iter_wav(found), mimetype="audio/wav")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{recording.archive_name(found)}"'
    )
    return response


def _licences_page(
    status: int = 200, errors: list[str] | None = None, ticked: dict[str, set[int]] | None = None
) -> Any:
    today = tokyo_today()
    phones = licences.terminals(g.circle)
    return render_template(
        "tenants/circle/licences.html",
        phones=phones,
        monitoring=services.holding(g.circle, OptionKind.MONITORING, today),
        whispering=services.holding(g.circle, OptionKind.WHISPERING, today),
        ticked=ticked
        or {
            "monitoring": {u.id for u in phones if u.monitoring},
            "whispering": {u.id for u in phones if u.whispering},
        },
        whispering_refused=licences.whispering_refused,
        errors=errors or [],
    ), status


@bp.get("/licences")
def licences_settings() -> Any:
    """R7/R8 settings: which uniques monitor and which whisper."""
    return _licences_page()


@bp.post("/licences")
def save_licences() -> Any:
    validate_csrf_or_400()
    monitoring, whispering = _ids("monitoring"), _ids("whispering")
    try:
        licences.save_ticks(
            g.circle,
            monitoring=monitoring,
            whispering=whispering,
            today=tokyo_today(),
            version=form_version(request.form.get("edit_version")),
        )
    except StaleEdit:
        return refuse_stale(url_for(".licences_settings"))
    except licences.LicenceError as exc:
        return _licences_page(
            422, exc.messages, {"monitoring": monitoring, "whispering": whispering}
        )
    flash(_l("The monitoring and whispering settings have been saved."), "success")
    return redirect(url_for(".licences_settings"))
