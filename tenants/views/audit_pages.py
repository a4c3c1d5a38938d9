"""The audit trail's pages, shared by the staff portal (its reseller's scope) and the
console (across resellers, through the audited bypass): the readable list with its
filters and paging, and the CSV export of the filtered rows."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, render_template, request, url_for

from pbx_platform import audit_read
from pbx_platform.japanese import tokyo_today


def list_page(blueprint: str) -> Any:
    criteria = audit_read.AuditFilter.from_args(request.args)
    for error in criteria.errors:
        flash(error, "error")
    page = audit_read.audit_page(criteria, request.args)
    return render_template(
        "tenants/audit.html",
        page=page,
        criteria=criteria,
        filters=criteria.args(),
        choices=audit_read.choices(),
        csv_url=url_for(f"{blueprint}.audit_csv", **_present(criteria.args())),
        list_url=url_for(f"{blueprint}.audit"),
    )


def export() -> Any:
    criteria = audit_read.AuditFilter.from_args(request.args)
    body = audit_read.csv_bytes(criteria)
    name = f"audit-{tokyo_today():%Y%m%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}
