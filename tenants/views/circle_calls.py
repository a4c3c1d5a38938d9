"""Call history (R6 "6. 通話履歴"), its recordings played and downloaded one by one, and
the staff's CSV back-fill of call records.

The recording is served with HTTP range requests (``Accept-Ranges: bytes``, 206 with
``Content-Range``, 416 past the end), streamed from the storage, so that the page's
``<audio>`` player seeks without fetching the whole file; ``?download=1`` makes it an
attachment named by ``recording_archive.archive_name`` (its name in an archive too).
Once recording has ended (R6), the player and the downloads are refused; the history
still lists the calls.

The back-fill previews first: the uploaded file is kept in the storage under the
circle's ``imports/`` namespace, named by its SHA-256, and the confirmation carries a
signed token naming the circle and that hash, so it imports exactly the file previewed.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from pbx_platform import storage
from pbx_platform.db import utcnow
from pbx_platform.japanese import tokyo_today
from pbx_platform.paging import Cursor
from pbx_platform.permissions import Action, allowed
from tenants.calls import backfill, fields, history
from tenants.calls.models import Direction
from tenants.options import recording, recording_archive
from tenants.services.circles.unique_csv import CsvFileError
from tenants.views.circle_admin import acting_for_circle, bp, menu_item, needs
from tenants.views.forms_util import parse_day, validate_csrf_or_400

menu_item("call_history", _l("Call history"))

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_MAX_AGE = 3600
STALE_PREVIEW = _l(
    "This preview has expired or does not match the file. Nothing was imported; "
    "upload the file again."
)
ANSWERED_CHOICES = {"yes": True, "no": False}


# --- call history ------------------------------------------------------------------------


def _day(raw: str, label: Any) -> tuple[date | None, str | None]:
    day = parse_day(raw)
    if day is None:
        return None, str(_l("%(field)s: enter the date as YYYY-MM-DD.", field=label))
    return day, None


def _filter_from_args(today: date) -> tuple[history.CallFilter, list[str]]:
    """The filter the query string asks for (the last 7 days by default) and what is
    wrong with it; a value that cannot be read is named, never guessed."""
    args = request.args
    default = history.CallFilter.default(today)
    errors: list[str] = []
    first, last = default.first, default.last
    if args.get("from"):
        day, error = _day(args["from"], _l("From"))
        first = day or first
        errors += [error] if error else []
    if args.get("to"):
        day, error = _day(args["to"], _l("To"))
        last = day or last
        errors += [error] if error else []
    unique_id = None
    raw_unique = args.get("unique", "")
    if raw_unique:
        if not (raw_unique.isascii() and raw_unique.isdigit() and len(raw_unique) <= 10):
            abort(404)  # no unique of this circle is called that
        unique_id = int(raw_unique)
    direction = None
    raw_direction = args.get("direction", "")
    if raw_direction:
        try:
            direction = Direction(raw_direction)
        except ValueError:
            errors.append(str(_l("Choose incoming, outgoing or internal.")))
    answered = None
    raw_answered = args.get("answered", "")
    if raw_answered:
        if raw_answered in ANSWERED_CHOICES:
            answered = ANSWERED_CHOICES[raw_answered]
        else:
            errors.append(str(_l("Choose answered or not answered.")))
    wanted = history.CallFilter(
        first=first, last=last, unique_id=unique_id, direction=direction, answered=answered
    )
    return wanted, errors


def _filter_args(wanted: history.CallFilter) -> dict[str, str]:
    """The filter as query parameters, for the pager's links."""
    values = {"from": wanted.first.isoformat(), "to": wanted.last.isoformat()}
    if wanted.unique_id is not None:
        values["unique"] = str(wanted.unique_id)
    if wanted.direction is not None:
        values["direction"] = wanted.direction.value
    if wanted.answered is not None:
        values["answered"] = "yes" if wanted.answered else "no"
    return values


@bp.get("/calls")
def call_history() -> Any:
    """R6 call history: filter, newest first, keyset pages of 50, each call's recording
    with a player and a WAV download while recording is contracted."""
    today = tokyo_today()
    wanted, errors = _filter_from_args(today)
    page = None
    if not errors:
        try:
            page = history.call_page(g.circle, wanted, Cursor.decode(request.args.get("cursor")))
        except history.UnknownUnique:
            abort(404)
        except history.HistoryError as exc:
            errors.append(str(exc))
    return render_template(
        "tenants/circle/calls.html",
        page=page,
        wanted=wanted,
        errors=errors,
        args=_filter_args(wanted),
        raw=request.args,
        uniques=history.filter_uniques(g.circle),
        directions=history.DIRECTION_LABELS,
        playable=recording.downloads_allowed(g.circle, today),
        max_days=history.MAX_DAYS,
        can_import=acting_for_circle()
        and allowed(current_user._get_current_object(), Action.CALLS_IMPORT),
    ), 422 if errors else 200


# --- one recording, played or downloaded ---------------------------------------------------


def _disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients, ``filename*`` (RFC 5987) for
    the exact name when it is not ASCII."""
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "._+-") else "_" for ch in name
    )
    value = f'{kind}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


@bp.get("/recording/<int:recording_id>.wav")
def recording_wav(recording_id: int) -> Any:
    """One recording as WAV, with range requests (the player seeks); refused once
    recording has ended (R6: ``OptionNotContracted``, 409 with the message)."""
    found = history.circle_recording(g.circle, recording_id)
    if found is None:
        abort(404)
    recording.require_downloads(g.circle, tokyo_today())
    size = found.size_bytes
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{found.sha256}"',
        "Content-Disposition": _disposition(
            "attachment" if request.args.get("download") == "1" else "inline",
            recording_archive.archive_name(found),
        ),
    }
    wanted = request.range
    if_range = request.headers.get("If-Range")
    if (
        wanted is not None
        and wanted.units == "bytes"
        and len(wanted.ranges) == 1
        and if_range in (None, headers["ETag"])
    ):
        span = wanted.range_for_length(size)
        if span is None:
            return Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, stop = span
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        headers["Content-Length"] = str(stop - start)
        return Response(
            recording.iter_wav(found, start, stop),
            status=206,
            mimetype="audio/wav",
            headers=headers,
            direct_passthrough=True,
        )
    headers["Content-Length"] = str(size)
    return Response(
        recording.iter_wav(found),
        mimetype="audio/wav",
        headers=headers,
        direct_passthrough=True,
    )


# --- CSV back-fill (staff) -----------------------------------------------------------------


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="pbx.call-import")


def _imports(circle_id: int) -> str:
    return f"imports/{circle_id}"


def _import_page(error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "tenants/circle/call_import.html",
        error=error,
        columns=fields.FIELDS,
        max_mb=backfill.MAX_BYTES // 2**20,
        max_rows=backfill.MAX_ROWS,
    ), status


@bp.get("/calls/import/template.csv")
@needs(Action.CALLS_IMPORT)
def call_import_template() -> Any:
    return (
        backfill.template_csv(),
        200,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="calls-template.csv"',
        },
    )


@bp.route("/calls/import", methods=["GET", "POST"])
@needs(Action.CALLS_IMPORT)
def call_import() -> Any:
    """Upload → preview: how many calls are new, how many known, every rejected row."""
    if request.method == "GET":
        return _import_page()
    validate_csrf_or_400()
    upload = request.files.get("file")
    data = upload.read(backfill.MAX_BYTES + 1) if upload else b""
    try:
        preview = backfill.preview(g.circle, data, now=utcnow())
    except CsvFileError as exc:
        return _import_page(str(exc), 422)
    if preview.new:
        storage.get_store().put(_imports(g.circle.id), [data])
    token = _signer().dumps({"c": g.circle.id, "h": preview.sha256})
    return (
        render_template("tenants/circle/call_import_preview.html", preview=preview, token=token),
        200,
        NO_STORE,
    )


@bp.post("/calls/import/confirm")
@needs(Action.CALLS_IMPORT)
def call_import_confirm() -> Any:
    validate_csrf_or_400()
    try:
        claim = _signer().loads(request.form.get("token", ""), max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return _import_page(str(STALE_PREVIEW), 409)
    sha = claim.get("h") if isinstance(claim, dict) else None
    if not isinstance(claim, dict) or claim.get("c") != g.circle.id or not isinstance(sha, str):
        return _import_page(str(STALE_PREVIEW), 409)
    store = storage.get_store()
    key = storage.key_for(_imports(g.circle.id), sha)
    try:
        data = b"".join(store.iter_bytes(key))
    except storage.StorageError:
        return _import_page(str(STALE_PREVIEW), 409)
    try:
        result = backfill.apply(g.circle, data, now=utcnow())
    except CsvFileError as exc:
        return _import_page(str(exc), 422)
    # The staged upload has served; a second confirmation finds it gone (stale).
    store.delete(key)
    flash(
        _l(
            "%(added)d call(s) imported, %(known)d already known, %(rejected)d rejected.",
            added=result.added,
            known=result.known,
            rejected=result.rejected,
        ),
        "success",
    )
    return redirect(url_for(".call_history"))
