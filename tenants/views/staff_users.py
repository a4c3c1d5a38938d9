"""The reseller's staff users (admins only, ``STAFF_MANAGE``): list, invite, change the
role, deactivate and reactivate; and an account's managers, invited from the account's
page. The rules are in ``tenants.services.staff_users``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.permissions import Action, require
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms import EmptyForm
from tenants.forms_staff import ROLE_NAMES, ManagerInviteForm, RoleForm, StaffInviteForm
from tenants.models import Account, Reseller, Staff, StaffKind, StaffRole
from tenants.services import staff_users
from tenants.views.common import get_or_404, portal_only, staff_required
from tenants.views.forms_util import validate_csrf_or_400
from tenants.views.staff_portal import account_page

bp = Blueprint("staff_users", __name__, url_prefix="/staff")


@bp.before_request
def _portal_host_only() -> None:
    portal_only(is_console=False)


def _me() -> Staff:
    return current_user._get_current_object()


def _list_page(form: StaffInviteForm, status: int = 200) -> Any:
    return render_template(
        "tenants/staff_users.html",
        users=staff_users.staff_users(),
        form=form,
        pending=staff_users.invitation_pending,
        role_labels=_role_labels(),
    ), status


def _role_labels() -> dict[str, Any]:
    return {role.value: label for role, label in ROLE_NAMES.items()}


@bp.get("/users")
@staff_required
def users() -> Any:
    require(Action.STAFF_MANAGE)
    return _list_page(StaffInviteForm(locale=_me().locale or "ja"))


@bp.post("/users/invite")
@staff_required
def invite() -> Any:
    require(Action.STAFF_MANAGE)
    form = StaffInviteForm()
    if not form.validate_on_submit():
        return _list_page(form, 400)
    reseller = get_or_404(Reseller, _me().reseller_id)
    outcome = staff_users.invite_staff(
        reseller,
        form.email.data or "",
        form.name.data or "",
        StaffRole(form.role.data),
        form.locale.data,
        invited_by=_me(),
    )
    if not outcome.ok:
        for name, messages in outcome.errors.items():
            getattr(form, name).errors = messages
        return _list_page(form, 400)
    assert outcome.staff is not None
    flash(_l("An invitation has been sent to %(email)s.", email=outcome.staff.email), "success")
    return redirect(url_for(".users"))


def _reseller_staff(staff_id: int) -> Staff:
    staff = get_or_404(Staff, staff_id)
    require(Action.STAFF_MANAGE)
    return staff


def _detail_page(staff: Staff, form: RoleForm | None = None, status: int = 200) -> Any:
    return render_template(
        "tenants/staff_user.html",
        user=staff,
        role_form=form or RoleForm(role=staff.role.value),
        form=EmptyForm(),
        pending=staff_users.invitation_pending(staff),
        role_labels=_role_labels(),
        is_reseller_staff=staff.kind == StaffKind.RESELLER,
    ), status


@bp.get("/users/<int:staff_id>")
@staff_required
def user_detail(staff_id: int) -> Any:
    return _detail_page(_reseller_staff(staff_id))


@bp.post("/users/<int:staff_id>/role")
@staff_required
def change_role(staff_id: int) -> Any:
    staff = _reseller_staff(staff_id)
    form = RoleForm()
    if staff.kind != StaffKind.RESELLER:
        flash(_l("An account manager has no role to change."), "error")
        return _detail_page(staff, status=409)
    if not form.validate_on_submit():
        return _detail_page(staff, form, 400)
    try:
        staff_users.change_role(
            staff,
            StaffRole(form.role.data),
            version=form_version(request.form.get("edit_version")),
        )
    except StaleEdit:
        return refuse_stale(url_for(".user_detail", staff_id=staff.id))
    except staff_users.LastAdmin as exc:
        flash(str(exc), "error")
        return _detail_page(staff, status=409)
    flash(_l("The role has been changed."), "success")
    return redirect(url_for(".user_detail", staff_id=staff.id))


@bp.post("/users/<int:staff_id>/deactivate")
@staff_required
def deactivate(staff_id: int) -> Any:
    staff = _reseller_staff(staff_id)
    validate_csrf_or_400()
    try:
        staff_users.deactivate(staff)
    except staff_users.LastAdmin as exc:
        flash(str(exc), "error")
        return _detail_page(staff, status=409)
    flash(_l("%(name)s has been deactivated: logins are refused.", name=staff.name), "success")
    if staff.id == _me().id:
        return redirect(url_for("auth.staff_login"))
    return redirect(url_for(".user_detail", staff_id=staff.id))


@bp.post("/users/<int:staff_id>/reactivate")
@staff_required
def reactivate(staff_id: int) -> Any:
    staff = _reseller_staff(staff_id)
    validate_csrf_or_400()
    staff_users.reactivate(staff)
    flash(_l("%(name)s has been reactivated.", name=staff.name), "success")
    return redirect(url_for(".user_detail", staff_id=staff.id))


@bp.post("/users/<int:staff_id>/resend")
@staff_required
def resend_invitation(staff_id: int) -> Any:
    staff = _reseller_staff(staff_id)
    validate_csrf_or_400()
    if not staff_users.resend_invitation(staff, invited_by=_me()):
        flash(_l("This user has already set a password."), "error")
        return _detail_page(staff, status=409)
    flash(_l("A new invitation has been sent to %(email)s.", email=staff.email), "success")
    return redirect(url_for(".user_detail", staff_id=staff.id))


@bp.post("/accounts/<int:account_id>/managers")
@staff_required
def invite_manager(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.STAFF_MANAGE)
    form = ManagerInviteForm()
    outcome = None
    if form.validate_on_submit():
        outcome = staff_users.invite_account_manager(
            account, form.email.data or "", form.name.data or "", form.locale.data, _me()
        )
        if outcome.ok and outcome.staff is not None:
            flash(
                _l("An invitation has been sent to %(email)s.", email=outcome.staff.email),
                "success",
            )
            return redirect(url_for("staff_portal.account_detail", account_id=account.id))
        for name, messages in outcome.errors.items():
            getattr(form, name).errors = messages
    return account_page(account, form, 400)
