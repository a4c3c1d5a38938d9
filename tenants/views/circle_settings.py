"""Circle settings pages: the uniques (list and detail), pickup groups (R16), the
extension length and its renumbering (R13).

Routes on the shared circle blueprint: the circle login at ``/portal/...``, reseller
staff and account managers at ``/staff/circles/<id>/...``; support staff read only
(the blueprint refuses their POSTs). Thin: parse, call ``tenants.services.circles``,
render. A refused change answers 4xx, so the request rolls back whatever it touched.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from pbx_platform.routing import parse_id
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms_circle import PickupGroupForm, UniqueForm
from tenants.models import PickupGroup, UniqueKind
from tenants.services import circles
from tenants.services.circles import CircleSettingsError, Outcome, StaleConfirmation
from tenants.views import circle_admin
from tenants.views.circle_admin import bp
from tenants.views.forms_util import parse_quantity, validate_csrf_or_400

circle_admin.menu_item("uniques", _l("Uniques"))
circle_admin.menu_item("pickup_groups", _l("Pickup groups"))
circle_admin.menu_item("settings", _l("Circle settings"))


def _id_arg(raw: str | None) -> int | None:
    """An id or page number from the query string (full-width digits accepted), within
    the range of ids (``None`` outside it: a page that cannot exist)."""
    return parse_id(circles.normalized(raw))


def _show(form: FlaskForm, outcome: Outcome) -> None:
    """Show the normalised values back, with the service's messages."""
    for name, value in outcome.values.items():
        if name in outcome.errors or isinstance(value, str):
            getattr(form, name).data = value
    for name, messages in outcome.errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, *messages]


# --- the uniques ----------------------------------------------------------------------


@bp.get("/uniques")
def uniques() -> Any:
    """Every unique of the circle with its pickup group (R16) and option ticks, paged,
    searchable by extension prefix or name."""
    group = None
    if request.args.get("group"):
        group_id = _id_arg(request.args.get("group"))
        group = circles.circle_pickup_group(g.circle, group_id) if group_id else None
        if group is None:
            abort(404)
    listing = circles.unique_page(
        g.circle,
        search=request.args.get("q", ""),
        page=_id_arg(request.args.get("page")) or 1,
        pickup_group=group,
    )
    return render_template(
        "tenants/circle/uniques.html",
        listing=listing,
        groups=circles.pickup_group_choices(g.circle),
        waiting=circles.uniques_without_extension(g.circle),
        ring_groups_to_set_up=circles.ring_groups_to_set_up(g.circle),
    )


@bp.route("/uniques/<int:unique_id>", methods=["GET", "POST"])
def unique_detail(unique_id: int) -> Any:
    """A unique's settings: extension, name and pickup group (R13, R16), with
    "save changes" and "cancel" (R18)."""
    unique = circles.circle_unique(g.circle, unique_id)
    if unique is None:
        abort(404)
    form = UniqueForm(
        data={
            "extension": unique.extension or "",
            "display_name": unique.display_name,
            "pickup_group_id": unique.pickup_group_id,
            "terminal_type": unique.terminal_type.value if unique.terminal_type else "",
            "carrier": unique.carrier.value if unique.carrier else "",
        }
    )
    is_phone = unique.kind == UniqueKind.PHONE
    form.pickup_group_id.choices = [
        (group.id, group.name) for group in circles.pickup_group_choices(g.circle)
    ]
    low, high = circles.extension_range(g.circle.extension_length)
    form.extension.description = _l(
        "%(n)d digits from %(low)d to %(high)d, not used by another unique or ring group. "
        "Leave empty for no extension.",
        n=g.circle.extension_length,
        low=low,
        high=high,
    )
    status = 200
    if form.validate_on_submit():
        try:
            outcome = circles.update_unique(
                g.circle,
                unique,
                extension=form.extension.data,
                display_name=form.display_name.data,
                pickup_group_id=form.pickup_group_id.data,
                terminal_type=form.terminal_type.data if is_phone else None,
                carrier=form.carrier.data if is_phone else None,
                version=form_version(request.form.get("edit_version")),
            )
        except StaleEdit:
            return refuse_stale(url_for(".unique_detail", unique_id=unique.id))
        if outcome.ok:
            flash(
                _l("The settings of %(name)s have been saved.", name=unique.display_name), "success"
            )
            return redirect(url_for(".unique_detail", unique_id=unique.id))
        _show(form, outcome)
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "tenants/circle/unique_detail.html",
        unique=unique,
        form=form,
        is_phone=is_phone,
        is_sip=is_phone and unique.terminal_type in circles.SIP_TYPES,
    ), status


# --- R16 pickup groups -----------------------------------------------------------------


def _pickup_list(form: PickupGroupForm, status: int = 200) -> Any:
    return render_template(
        "tenants/circle/pickup_groups.html", rows=circles.pickup_groups(g.circle), form=form
    ), status


def _circle_group_or_404(group_id: int) -> PickupGroup:
    group = circles.circle_pickup_group(g.circle, group_id)
    if group is None:
        abort(404)
    return group


@bp.get("/pickup-groups")
def pickup_groups() -> Any:
    """R16: the circle's pickup groups with their member counts, and the add form."""
    return _pickup_list(PickupGroupForm(formdata=None))


@bp.post("/pickup-groups")
def add_pickup_group() -> Any:
    form = PickupGroupForm()
    if form.validate_on_submit():
        outcome, group = circles.add_pickup_group(g.circle, form.name.data)
        if outcome.ok and group is not None:
            flash(_l("The pickup group %(name)s has been added.", name=group.name), "success")
            return redirect(url_for(".pickup_groups"))
        _show(form, outcome)
    return _pickup_list(form, 422)


def _pickup_page(
    group: PickupGroup, form: PickupGroupForm, status: int = 200, error: str | None = None
) -> Any:
    return render_template(
        "tenants/circle/pickup_group.html",
        group=group,
        form=form,
        members=circles.pickup_group_members(g.circle, group),
        error=error,
    ), status


@bp.route("/pickup-groups/<int:group_id>", methods=["GET", "POST"])
def pickup_group(group_id: int) -> Any:
    """R16: rename a pickup group ("save changes" / "cancel", R18), or delete it."""
    group = _circle_group_or_404(group_id)
    form = PickupGroupForm(data={"name": group.name})
    if form.validate_on_submit():
        try:
            outcome = circles.rename_pickup_group(
                g.circle,
                group,
                form.name.data,
                version=form_version(request.form.get("edit_version")),
            )
        except StaleEdit:
            return refuse_stale(url_for(".pickup_group", group_id=group.id))
        if outcome.ok:
            flash(_l("The pickup group %(name)s has been saved.", name=group.name), "success")
            return redirect(url_for(".pickup_groups"))
        _show(form, outcome)
        return _pickup_page(group, form, 422)
    if request.method == "POST":
        return _pickup_page(group, form, 422)
    return _pickup_page(group, form)


@bp.post("/pickup-groups/<int:group_id>/delete")
def delete_pickup_group(group_id: int) -> Any:
    """R16: delete a group; its members fall back to Default."""
    validate_csrf_or_400()
    group = _circle_group_or_404(group_id)
    name = group.name
    try:
        moved = circles.delete_pickup_group(g.circle, group)
    except CircleSettingsError as exc:
        return _pickup_page(
            group, PickupGroupForm(formdata=None, data={"name": name}), 422, error=str(exc)
        )
    flash(
        _l(
            "The pickup group %(name)s has been deleted; %(n)d unique(s) moved to Default.",
            name=name,
            n=moved,
        ),
        "success",
    )
    return redirect(url_for(".pickup_groups"))


# --- R13 extension length and renumbering ----------------------------------------------


def _settings_page(error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "tenants/circle/settings_extension_length.html",
        ranges=[(length, *circles.extension_range(length)) for length in circles.EXTENSION_LENGTHS],
        waiting=circles.uniques_without_extension(g.circle),
        ring_groups_to_set_up=circles.ring_groups_to_set_up(g.circle),
        error=error,
    ), status


def _length_arg(raw: str | None) -> int | None:
    """The chosen extension length (full-width digits accepted), or None."""
    length, _ = parse_quantity(
        raw or "", minimum=min(circles.EXTENSION_LENGTHS), maximum=max(circles.EXTENSION_LENGTHS)
    )
    return length


_NO_LENGTH = _l("Choose an extension length from 2 to 5 digits.")


@bp.get("/settings")
def settings() -> Any:
    """R13: the extension length, and the way to renumber after a change."""
    return _settings_page()


@bp.get("/settings/extension-length")
def extension_length_confirm() -> Any:
    """R13 warning: exactly what a change would invalidate, and the renumbering
    offered with it (old → new), before anything changes."""
    length = _length_arg(request.args.get("length"))
    if length is None:
        return _settings_page(error=str(_NO_LENGTH), status=422)
    try:
        plan = circles.plan_length_change(g.circle, length)
    except CircleSettingsError as exc:
        return _settings_page(error=str(exc), status=422)
    return render_template("tenants/circle/settings_extension_confirm.html", plan=plan, error=None)


@bp.post("/settings/extension-length")
def change_extension_length() -> Any:
    """R13: apply the confirmed change (and the renumbering, if chosen)."""
    validate_csrf_or_400()
    length = _length_arg(request.form.get("length"))
    if length is None:
        return _settings_page(error=str(_NO_LENGTH), status=422)
    try:
        result = circles.change_extension_length(
            g.circle,
            length,
            request.form.get("token", ""),
            renumber=request.form.get("renumber") == "1",
        )
    except CircleSettingsError as exc:
        status = 409 if isinstance(exc, StaleConfirmation) else 422
        try:
            plan = circles.plan_length_change(g.circle, length)
        except CircleSettingsError:
            return _settings_page(error=str(exc), status=status)
        return render_template(
            "tenants/circle/settings_extension_confirm.html", plan=plan, error=str(exc)
        ), status
    flash(
        _l(
            "The extension length is now %(n)d digits; %(count)d extension(s) were invalidated.",
            n=length,
            count=result.losing,
        ),
        "success",
    )
    if result.ring_groups:
        flash(
            _l(
                "Ring groups cleared (extension and members): %(names)s. Set them up again.",
                names=", ".join(result.ring_groups),
            ),
            "warning",
        )
    if result.renumbered:
        flash(_l("%(n)d unique(s) renumbered into the new range.", n=result.renumbered), "success")
    if result.waiting:
        return redirect(url_for(".renumber"))
    return redirect(url_for(".uniques"))


@bp.get("/settings/renumber")
def renumber() -> Any:
    """After an R13 change: the automatic renumbering of the uniques without an
    extension, shown old → new before it is applied."""
    return render_template(
        "tenants/circle/settings_renumber.html",
        plan=circles.plan_renumber(g.circle),
        ring_groups_to_set_up=circles.ring_groups_to_set_up(g.circle),
        error=None,
    )


@bp.post("/settings/renumber")
def apply_renumber() -> Any:
    validate_csrf_or_400()
    try:
        count = circles.apply_renumber(g.circle, request.form.get("token", ""))
    except CircleSettingsError as exc:
        status = 409 if isinstance(exc, StaleConfirmation) else 422
        return render_template(
            "tenants/circle/settings_renumber.html",
            plan=circles.plan_renumber(g.circle),
            error=str(exc),
        ), status
    flash(_l("%(n)d unique(s) renumbered into the new range.", n=count), "success")
    return redirect(url_for(".uniques"))
