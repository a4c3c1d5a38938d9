"""R3 conference rooms and R4 outbound number selection: the circle's settings pages.

Routes on the shared circle blueprint, so each page exists in both trees (the circle
login at ``/portal``, staff at ``/staff/circles/<id>``). Another circle's room or
selector is not found (404); without the option (or after its end date) the pages
say so and offer to buy it (200), and changes are refused (409, ``circle_admin``).
Each form saves with "save changes"; "cancel" reloads the saved state (R18).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.models import Circle
from tenants.options import conference, outbound, services, virtual
from tenants.options.dates import tokyo_today
from tenants.options.models import LINES_PER_CONFERENCE_ROOM, OptionKind
from tenants.validation import extension_hint
from tenants.views.circle_admin import bp, menu_item
from tenants.views.forms_util import validate_csrf_or_400

menu_item("conference_rooms", _l("Conference rooms"))
menu_item("outbound_selectors", _l("Outbound number selection"))


def _holding(kind: OptionKind) -> services.Holding:
    return services.holding(g.circle, kind, tokyo_today())


def _not_contracted(template: str, holding: services.Holding, **context: Any) -> Any:
    """The option's pages without the option: say so, link to buying it (200); a change
    is refused as on every option page (``services.OptionNotContracted``: 409)."""
    if request.method == "POST":
        raise services.OptionNotContracted(holding.kind)
    return render_template(template, holding=holding, **context)


# -- R3 conference rooms ---------------------------------------------------------------------

ROOMS_TEMPLATE = "tenants/circle/conference_rooms.html"


@bp.get("/conference-rooms")
def conference_rooms() -> Any:
    holding = _holding(OptionKind.CONFERENCE_ROOM)
    return render_template(
        ROOMS_TEMPLATE,
        holding=holding,
        rooms=conference.rooms(g.circle),
        count=conference.room_count(g.circle, tokyo_today()),
        lines_per_room=LINES_PER_CONFERENCE_ROOM,
    )


@bp.route("/conference-rooms/new", methods=["GET", "POST"])
def conference_room_new() -> Any:
    return _room_form(None)


@bp.route("/conference-rooms/<int:room_id>", methods=["GET", "POST"])
def conference_room_edit(room_id: int) -> Any:
    entry = conference.find_room(g.circle, room_id)
    if entry is None:
        abort(404)
    return _room_form(entry)


def _version() -> int:
    return form_version(request.form.get("edit_version"))


def _room_input() -> conference.RoomInput:
    form = request.form
    return conference.RoomInput(
        name=form.get("name", ""),
        extension=form.get("extension", ""),
        phone_number_id=form.get("phone_number_id", ""),
        new_pin=form.get("new_pin", ""),
        clear_pin=form.get("clear_pin", ""),
        broadcast=form.get("broadcast", ""),
        member_ids=form.getlist("members"),
    )


def _room_form(entry: conference.RoomEntry | None) -> Any:
    holding = _holding(OptionKind.CONFERENCE_ROOM)
    if not holding.held:
        return _not_contracted(ROOMS_TEMPLATE, holding, rooms=conference.rooms(g.circle))
    values, errors, status = conference.room_values(entry), {}, 200
    if request.method == "POST":
        validate_csrf_or_400()
        try:
            outcome = conference.save_room(
                g.circle, entry, _room_input(), tokyo_today(), version=_version()
            )
        except StaleEdit:
            assert entry is not None  # only an existing room has a version to be stale
            return refuse_stale(url_for(".conference_room_edit", room_id=entry.id))
        if outcome.ok and outcome.saved is not None:
            flash(_l("The conference room has been saved."), "success")
            return redirect(url_for(".conference_room_edit", room_id=outcome.saved.id))
        values, errors, status = outcome.values, outcome.errors, 422
    return render_template(
        "tenants/circle/conference_room.html",
        entry=entry,
        values=values,
        errors=errors,
        holding=holding,
        count=conference.room_count(g.circle, tokyo_today()),
        lines_per_room=LINES_PER_CONFERENCE_ROOM,
        numbers=virtual.circle_numbers(g.circle),
        candidates=conference.member_candidates(g.circle),
        extension_hint=extension_hint(g.circle),
        pin_min=conference.PIN_MIN,
        pin_max=conference.PIN_MAX,
        name_max=virtual.NAME_MAX,
    ), status


def _delete(
    entry: Any,
    kind: OptionKind,
    not_contracted: Callable[[services.Holding], Any],
    delete: Callable[[Circle, Any, date], None],
    deleted: Callable[[str], Any],
    back: str,
) -> Any:
    """Delete a room or a selector: another circle's is not found (404); without the
    option, its page says so; else delete it, say so and go back to the list."""
    if entry is None:
        abort(404)
    holding = _holding(kind)
    if not holding.held:
        return not_contracted(holding)
    name = entry.unique.display_name
    delete(g.circle, entry, tokyo_today())
    flash(deleted(name), "success")
    return redirect(url_for(back))


@bp.post("/conference-rooms/<int:room_id>/delete")
def conference_room_delete(room_id: int) -> Any:
    validate_csrf_or_400()
    return _delete(
        conference.find_room(g.circle, room_id),
        OptionKind.CONFERENCE_ROOM,
        lambda holding: _not_contracted(ROOMS_TEMPLATE, holding, rooms=conference.rooms(g.circle)),
        conference.delete_room,
        lambda name: _l("The conference room %(name)s has been deleted.", name=name),
        ".conference_rooms",
    )


# -- R4 outbound number selection ------------------------------------------------------------

SELECTORS_TEMPLATE = "tenants/circle/outbound_selectors.html"


@bp.get("/outbound-selectors")
def outbound_selectors() -> Any:
    holding = _holding(OptionKind.OUTBOUND_SELECTION)
    return render_template(
        SELECTORS_TEMPLATE, holding=holding, selectors=outbound.selectors(g.circle)
    )


@bp.route("/outbound-selectors/new", methods=["GET", "POST"])
def outbound_selector_new() -> Any:
    return _selector_form(None)


@bp.route("/outbound-selectors/<int:selector_id>", methods=["GET", "POST"])
def outbound_selector_edit(selector_id: int) -> Any:
    entry = outbound.find_selector(g.circle, selector_id)
    if entry is None:
        abort(404)
    return _selector_form(entry)


def _selector_form(entry: outbound.SelectorEntry | None) -> Any:
    holding = _holding(OptionKind.OUTBOUND_SELECTION)
    if not holding.held:
        return _not_contracted(SELECTORS_TEMPLATE, holding, selectors=outbound.selectors(g.circle))
    values, errors, status = outbound.selector_values(entry), {}, 200
    if request.method == "POST":
        validate_csrf_or_400()
        form = request.form
        data = outbound.SelectorInput(
            name=form.get("name", ""),
            extension=form.get("extension", ""),
            phone_number_id=form.get("phone_number_id", ""),
            terminal="".join(form.get(name, "") for name in outbound.TERMINAL_FIELDS),
        )
        try:
            outcome = outbound.save_selector(
                g.circle, entry, data, tokyo_today(), version=_version()
            )
        except StaleEdit:
            assert entry is not None
            return refuse_stale(url_for(".outbound_selector_edit", selector_id=entry.id))
        if outcome.ok and outcome.saved is not None:
            flash(_l("The outbound number selector has been saved."), "success")
            return redirect(url_for(".outbound_selector_edit", selector_id=outcome.saved.id))
        values, errors, status = outcome.values, outcome.errors, 422
    return render_template(
        "tenants/circle/outbound_selector.html",
        entry=entry,
        values=values,
        errors=errors,
        holding=holding,
        numbers=virtual.circle_numbers(g.circle),
        extension_hint=extension_hint(g.circle),
        name_max=virtual.NAME_MAX,
    ), status


@bp.post("/outbound-selectors/<int:selector_id>/delete")
def outbound_selector_delete(selector_id: int) -> Any:
    validate_csrf_or_400()
    return _delete(
        outbound.find_selector(g.circle, selector_id),
        OptionKind.OUTBOUND_SELECTION,
        lambda holding: _not_contracted(
            SELECTORS_TEMPLATE, holding, selectors=outbound.selectors(g.circle)
        ),
        outbound.delete_selector,
        lambda name: _l("The outbound number selector %(name)s has been deleted.", name=name),
        ".outbound_selectors",
    )
