"""Ring groups (同時呼出) of a circle: list, create, edit (members in order, ring time)
and delete, on the shared circle blueprint (the circle login at ``/portal``, staff and
account managers at ``/staff/circles/<id>``; R22 as every circle settings page: read
with ``CIRCLE_VIEW``, change with ``CIRCLE_SETTINGS_EDIT``). After an R13 length
change the notice on the settings pages links here.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.models import RingGroup
from tenants.services import circles
from tenants.views.circle_admin import bp, menu_item
from tenants.views.forms_util import validate_csrf_or_400

menu_item("ring_groups", _l("Ring groups"))


def _group_or_404(ring_group_id: int) -> RingGroup:
    group = circles.circle_ring_group(g.circle, ring_group_id)
    if group is None:
        abort(404)
    return group


@bp.get("/ring-groups")
def ring_groups() -> Any:
    return render_template("tenants/circle/ring_groups.html", rows=circles.ring_groups(g.circle))


@bp.route("/ring-groups/new", methods=["GET", "POST"])
def ring_group_new() -> Any:
    return _group_form(None)


@bp.route("/ring-groups/<int:ring_group_id>", methods=["GET", "POST"])
def ring_group_edit(ring_group_id: int) -> Any:
    return _group_form(_group_or_404(ring_group_id))


def _input() -> circles.RingGroupInput:
    form = request.form
    return circles.RingGroupInput(
        name=form.get("name", ""),
        extension=form.get("extension", ""),
        ring_time=form.get("ring_time", ""),
        members=[
            circles.MemberChoice(raw, form.get(f"position_{raw}", ""))
            for raw in form.getlist("members")
        ],
    )


def _group_form(group: RingGroup | None) -> Any:
    values, errors, status = circles.ring_group_values(group), {}, 200
    if request.method == "POST":
        validate_csrf_or_400()
        try:
            outcome = circles.save_ring_group(
                g.circle, group, _input(), version=form_version(request.form.get("edit_version"))
            )
        except StaleEdit:
            assert group is not None
            return refuse_stale(url_for(".ring_group_edit", ring_group_id=group.id))
        if outcome.ok and outcome.group is not None:
            flash(_l("The ring group %(name)s has been saved.", name=outcome.group.name), "success")
            return redirect(url_for(".ring_groups"))
        values, errors, status = outcome.values, outcome.errors, 422
    low, high = circles.extension_range(g.circle.extension_length)
    return render_template(
        "tenants/circle/ring_group.html",
        group=group,
        values=values,
        errors=errors,
        candidates=circles.member_candidates(g.circle),
        uses=circles.ring_group_uses(g.circle, group) if group else [],
        extension_hint=_l(
            "%(n)d digits from %(low)d to %(high)d, not used by a unique or another ring group.",
            n=g.circle.extension_length,
            low=low,
            high=high,
        ),
        ring_time_min=RingGroup.RING_TIME_MIN,
        ring_time_max=RingGroup.RING_TIME_MAX,
        name_max=circles.DISPLAY_NAME_MAX,
    ), status


@bp.post("/ring-groups/<int:ring_group_id>/delete")
def ring_group_delete(ring_group_id: int) -> Any:
    validate_csrf_or_400()
    group = _group_or_404(ring_group_id)
    name = group.name
    uses = circles.delete_ring_group(g.circle, group)
    flash(_l("The ring group %(name)s has been deleted.", name=name), "success")
    if uses:
        flash(
            _l(
                "IVRs that sent callers to it now hang up there: %(names)s.",
                names=", ".join(use.ivr_name for use in uses),
            ),
            "warning",
        )
    return redirect(url_for(".ring_groups"))
