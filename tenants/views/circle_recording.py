"""R6 recording settings and downloads; R7/R8 monitoring and whispering ticks.

A single recording is played and downloaded from the call history
(``tenants.views.circle_calls``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform import svg_chart
from pbx_platform.japanese import jdate
from pbx_platform.permissions import Action, allowed
from pbx_platform.tenancy import streamed_in_scope
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.options import licences, recording, services, storage_series
from tenants.options import recording_archive as archives
from tenants.options.dates import tokyo_today
from tenants.options.models import OptionKind
from tenants.views.circle_admin import bp, menu_item, needs
from tenants.views.forms_util import parse_day, parse_quantity, validate_csrf_or_400

menu_item("recording_settings", _l("Call recording"))
menu_item("licences_settings", _l("Monitoring and whispering"))


def _ids(name: str) -> set[int]:
    """Ticked ids; anything that is not a number cannot be a unique of this circle."""
    values = request.form.getlist(name)
    if any(not v.isdigit() or len(v) > 12 for v in values):
        abort(400)
    return {int(v) for v in values}


def _short_day(day: date) -> str:
    """An axis label: 11月20日 in Japanese."""
    return _("%(month)d/%(day)d", month=day.month, day=day.day)


def _size_label(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 1e9:
        return f"{value / 1e9:.1f}".removesuffix(".0") + " GB"
    return f"{value / 1e6:.1f}".removesuffix(".0") + " MB"


def _storage_chart(usage: recording.Usage, today: date) -> dict[str, Any]:
    points = storage_series.stored_per_day(g.circle, today)
    first, last = points[0][0], points[-1][0]
    svg = svg_chart.line_chart(
        points,
        title=_("Recording storage per day"),
        description=_(
            "Stored recordings at the end of each day from %(first)s to %(last)s; "
            "today %(used)s of %(limit)d GB.",
            first=jdate(first),
            last=jdate(last),
            used=_size_label(usage.used_bytes),
            limit=usage.limit_gb,
        ),
        value_label=_size_label,
        date_label=_short_day,
        limit=usage.limit_bytes,
        limit_label=_("Limit %(gb)d GB", gb=usage.limit_gb),
    )
    return {"svg": svg, "points": points, "size_label": _size_label}


def _chosen_uniques() -> frozenset[int] | None:
    """The ticked uniques of the archive form; ``None`` when one is not a number."""
    values = request.args.getlist("unique")
    if any(not v.isdigit() or len(v) > 12 for v in values):
        return None
    return frozenset(int(v) for v in values)


def _recording_page(
    status: int = 200,
    errors: list[str] | None = None,
    *,
    chosen: archives.ArchiveFilter | None = None,
    preview: archives.Preview | None = None,
) -> Any:
    today = tokyo_today()
    holding = services.holding(g.circle, OptionKind.CALL_RECORDING, today)
    usage = recording.usage(g.circle)
    return render_template(
        "tenants/circle/recording.html",
        holding=holding,
        ended_on=None if holding.held else recording.ended_on(g.circle, today),
        usage=usage,
        chart=_storage_chart(usage, today) if holding.held else None,
        uniques=recording.phone_uniques(g.circle),
        downloads=recording.downloads_allowed(g.circle, today),
        today=today,
        chosen=chosen or archives.ArchiveFilter(today - timedelta(days=6), today, frozenset()),
        preview=preview,
        max_days=recording.MAX_ARCHIVE_DAYS,
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


def _archive_filter() -> archives.ArchiveFilter | str:
    """The archive form's day range and uniques, or the message to show."""
    first, last = parse_day(request.args.get("from")), parse_day(request.args.get("to"))
    unique_ids = _chosen_uniques()
    if first is None or last is None:
        return str(_l("Enter the dates as YYYY-MM-DD."))
    if unique_ids is None:
        return str(_l("Some of the selected uniques do not belong to this circle."))
    return archives.ArchiveFilter(first, last, unique_ids)


@bp.get("/recording/archive")
def recording_archive() -> Any:
    """R6: how many files and bytes the chosen range holds, with the download button;
    refused once recording has ended."""
    recording.require_downloads(g.circle, tokyo_today())
    chosen = _archive_filter()
    if isinstance(chosen, str):
        return _recording_page(422, [chosen])
    try:
        found = archives.preview(g.circle, chosen)
    except recording.RecordingError as exc:
        return _recording_page(422, [str(exc)], chosen=chosen)
    return _recording_page(chosen=chosen, preview=found)


@bp.get("/recording/archive.zip")
def recording_archive_zip() -> Any:
    """R6: the recordings of a day range as one ZIP, streamed while it is built.

    The rows are listed here, inside the request and its circle scope. The body reads
    the files from the storage after the view has returned and Flask has ended the
    request, so it runs in the request's context pushed again and in the circle's scope
    entered again (``tenancy.streamed_in_scope``), until the last byte is sent."""
    recording.require_downloads(g.circle, tokyo_today())
    chosen = _archive_filter()
    if isinstance(chosen, str):
        return _recording_page(422, [chosen])
    try:
        stream = archives.archive(g.circle, chosen)
    except recording.RecordingError as exc:
        return _recording_page(422, [str(exc)], chosen=chosen)
    if stream.is_empty():
        return _recording_page(404, [str(_l("No recordings in that period."))], chosen=chosen)
    response = Response(streamed_in_scope(stream), mimetype="application/zip")
    response.headers["Content-Length"] = str(len(stream))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="recordings-{chosen.first:%Y%m%d}-{chosen.last:%Y%m%d}.zip"'
    )
    response.headers["Cache-Control"] = "no-store"
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
