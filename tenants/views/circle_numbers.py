"""A circle's outside numbers, from its reseller's inventory: staff assign numbers of
the reseller's pool to the circle and release them back (``tenants.services.numbers``).

Routes on the shared circle blueprint; every page needs ``CUSTOMERS_MANAGE`` (R22:
the reseller's admin), so the circle's own login and account managers are refused.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.permissions import Action, require
from tenants.services import numbers
from tenants.views.circle_admin import bp, needs
from tenants.views.forms_util import validate_csrf_or_400


def _page(error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "tenants/circle/numbers.html",
        assigned=list(g.circle.phone_numbers),
        free=numbers.free_numbers(),
        error=error,
    ), status


@bp.get("/numbers")
@needs(Action.CUSTOMERS_MANAGE)
def numbers_page() -> Any:
    return _page()


@bp.post("/numbers/assign")
@needs(Action.CUSTOMERS_MANAGE)
def assign_numbers() -> Any:
    validate_csrf_or_400()
    ids: list[int] = []
    for raw in request.form.getlist("phone_number_id")[:200]:
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9):
            return _page(str(_l("That number is not in your pool.")), 422)
        ids.append(int(raw))
    try:
        added = numbers.assign(g.circle, ids)
    except numbers.NumberError as exc:
        # The request rolls back on this status: no number of the form is assigned.
        return _page(str(exc), 409)
    flash(_l("%(n)d numbers assigned to the circle.", n=len(added)), "success")
    return redirect(url_for(".numbers_page"))


@bp.post("/numbers/<int:number_id>/release")
# The number is looked up first, so that another circle's is 404 for every login; R22
# is asked of the number found (``CUSTOMERS_MANAGE``, below).
@needs(Action.CIRCLE_VIEW)
def release_number(number_id: int) -> Any:
    if numbers.circle_number(g.circle, number_id) is None:
        abort(404)
    require(Action.CUSTOMERS_MANAGE)
    validate_csrf_or_400()
    try:
        shown = numbers.release(g.circle, number_id)
    except LookupError:
        abort(404)
    except numbers.NumberError as exc:
        return _page(str(exc), 409)
    flash(_l("%(number)s is back in the pool.", number=shown), "success")
    return redirect(url_for(".numbers_page"))
