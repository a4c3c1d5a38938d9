"""The circle's phones as CSV: export (UTF-8 with BOM or CP932), and an import that
shows a preview of every row and its problems and applies nothing until confirmed.

The preview page carries the file it previewed (base64) with a signed token naming the
circle, the file's SHA-256 and the circle's state at preview time: the confirmation
applies exactly that file, and only while the circle is unchanged and the token is
less than an hour old (``tenants.services.circles.unique_csv``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tenants.services.circles import unique_csv
from tenants.services.circles.common import CircleSettingsError, StaleConfirmation
from tenants.views.circle_admin import bp
from tenants.views.forms_util import validate_csrf_or_400

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_MAX_AGE = 3600
STALE_PREVIEW = _l(
    "This preview has expired or does not match the file. Nothing was imported; "
    "upload the file again."
)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="pbx.unique-import")


@bp.get("/uniques/export.csv")
def unique_export() -> Any:
    encoding = request.args.get("encoding", "utf-8-sig")
    try:
        body = unique_csv.export_csv(g.circle, encoding)
    except CircleSettingsError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".unique_import"))
    suffix = "sjis" if encoding == "cp932" else "utf8"
    charset = "Shift_JIS" if encoding == "cp932" else "utf-8"
    return (
        body,
        200,
        {
            "Content-Type": f"text/csv; charset={charset}",
            "Content-Disposition": f'attachment; filename="phones-{g.circle.id}-{suffix}.csv"',
        },
    )


def _form_page(error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "tenants/circle/unique_import.html",
        error=error,
        columns=unique_csv.COLUMNS,
        encodings=unique_csv.ENCODINGS,
    ), status


@bp.route("/uniques/import", methods=["GET", "POST"])
def unique_import() -> Any:
    """Upload → preview: every row with what it does, every problem by row and column."""
    if request.method == "GET":
        return _form_page()
    validate_csrf_or_400()
    upload = request.files.get("file")
    data = upload.read(unique_csv.MAX_BYTES + 1) if upload else b""
    try:
        preview = unique_csv.preview_import(g.circle, data)
    except CircleSettingsError as exc:
        return _form_page(str(exc), 422)
    token = _signer().dumps({"c": g.circle.id, "h": preview.sha256, "s": preview.state})
    return render_template(
        "tenants/circle/unique_import_preview.html",
        preview=preview,
        token=token,
        payload=base64.b64encode(data).decode() if preview.ok else "",
    ), 200 if preview.ok else 422


@bp.post("/uniques/import/confirm")
def unique_import_confirm() -> Any:
    validate_csrf_or_400()
    try:
        claim = _signer().loads(request.form.get("token", ""), max_age=TOKEN_MAX_AGE)
        data = base64.b64decode(request.form.get("payload", ""), validate=True)
    except (BadSignature, binascii.Error, ValueError):
        return _form_page(str(STALE_PREVIEW), 409)
    if (
        not isinstance(claim, dict)
        or claim.get("c") != g.circle.id
        or claim.get("h") != hashlib.sha256(data).hexdigest()
    ):
        return _form_page(str(STALE_PREVIEW), 409)
    try:
        result = unique_csv.apply_import(g.circle, data, state=str(claim.get("s", "")))
    except StaleConfirmation as exc:
        return _form_page(str(exc), 409)
    except CircleSettingsError as exc:
        return _form_page(str(exc), 422)
    return render_template("tenants/circle/unique_import_done.html", result=result), 200, NO_STORE
