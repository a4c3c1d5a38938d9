"""The circle portal: what a customer's circle login sees of its own login (R14, R15,
R17); the circle's settings are in ``circle_admin``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from pbx_platform.auth import current_session_id
from pbx_platform.db import db
from pbx_platform.permissions import Action, require
from tenants.forms import ChangePasswordForm, EmptyForm, LoginIdForm
from tenants.models import PasswordPolicy, Unique
from tenants.services import logins
from tenants.views import sessions as session_pages
from tenants.views.common import circle_required, portal_only

bp = Blueprint("circle_portal", __name__, url_prefix="/portal")


@bp.before_request
def _portal_host_only() -> None:
    portal_only(is_console=False)


@bp.get("/")
@circle_required
def home() -> Any:
    require(Action.CIRCLE_VIEW)
    uniques = db.session.scalars(select(Unique).order_by(Unique.extension).limit(20)).all()
    return render_template("tenants/circle_home.html", circle=current_user, uniques=uniques)


@bp.route("/password", methods=["GET", "POST"])
@circle_required
def change_password() -> Any:
    """R15 change; R17 lands here at login (warn: with a 'later' link; force: no way out)."""
    require(Action.CIRCLE_LOGIN_CHANGE)
    circle = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        outcome = logins.change_password(
            circle,
            current=form.current_password.data or "",
            new=form.new_password.data or "",
            repeat=form.new_password_repeat.data or "",
            keep_session=current_session_id(),
        )
        if outcome.ok:
            # Every other session of this login has ended; this one goes on.
            flash(_l("Your password has been changed."), "success")
            return redirect(url_for("circle_portal.home"))
        for name, messages in outcome.errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, *messages]
    return render_template(
        "tenants/change_password.html",
        form=form,
        later_form=EmptyForm(),
        policy=circle.password_policy,
        PasswordPolicy=PasswordPolicy,
        later_url=url_for("circle_portal.skip_password_change")
        if circle.password_policy == PasswordPolicy.WARN
        else None,
    )


@bp.post("/password/later")
@circle_required
def skip_password_change() -> Any:
    """R17 warn: the user may skip the change for now."""
    require(Action.CIRCLE_LOGIN_CHANGE)
    form = EmptyForm()
    if form.validate_on_submit() and current_user.password_policy == PasswordPolicy.WARN:
        flash(_l("Please change your password soon."), "warning")
    return redirect(url_for("circle_portal.home"))


@bp.route("/login-id", methods=["GET", "POST"])
@circle_required
def change_login_id() -> Any:
    """R14."""
    require(Action.CIRCLE_LOGIN_CHANGE)
    form = LoginIdForm()
    if request.method == "GET":
        form.login_id.data = current_user.login_id
    if form.validate_on_submit():
        outcome = logins.change_login_id(
            current_user._get_current_object(), form.login_id.data or ""
        )
        if outcome.ok:
            flash(_l("Your login ID has been changed."), "success")
            return redirect(url_for("circle_portal.home"))
        form.login_id.errors = [*form.login_id.errors, *outcome.errors["login_id"]]
    return render_template("tenants/change_login_id.html", form=form)


@bp.get("/sessions")
@circle_required
def sessions() -> Any:
    """The circle login's active sessions (every browser logged in with it)."""
    return session_pages.list_page("circle_portal")


@bp.post("/sessions/<int:session_id>/end")
@circle_required
def end_session(session_id: int) -> Any:
    return session_pages.end_one("circle_portal", session_id, login_endpoint="auth.circle_login")


@bp.post("/sessions/end-others")
@circle_required
def end_other_sessions() -> Any:
    return session_pages.end_others("circle_portal")
