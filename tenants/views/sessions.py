"""The "Active sessions" page of every kind of login (circle portal, staff portal,
console): the login's live sessions, and ending one or all the others.

Each blueprint adds its three routes and calls these; a session id that is not one
of the caller's own live sessions (another login's, another tenant's, an ended
one) is 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform import sessions
from pbx_platform.auth import current_session_id, end_session
from tenants.forms import EmptyForm
from tenants.services import logins
from tenants.views.forms_util import validate_csrf_or_400


def _login() -> tuple[str, int]:
    principal = current_user._get_current_object()
    return principal.principal_kind, principal.id


def list_page(blueprint: str) -> Any:
    kind, principal_id = _login()
    return render_template(
        "tenants/sessions.html",
        records=sessions.active_sessions(kind, principal_id),
        current_id=current_session_id(),
        end_endpoint=f"{blueprint}.end_session",
        end_others_url=url_for(f"{blueprint}.end_other_sessions"),
        form=EmptyForm(),
    )


def end_one(blueprint: str, session_id: int, *, login_endpoint: str) -> Any:
    """End one of the caller's sessions; ending the current one is logging out."""
    validate_csrf_or_400()
    kind, principal_id = _login()
    record = sessions.session_of(kind, principal_id, session_id)
    if record is None:
        abort(404)
    if record.id == current_session_id():
        end_session()
        flash(_l("You have logged out."), "info")
        return redirect(url_for(login_endpoint))
    sessions.revoke(record, audit_as="session.end")
    flash(_l("The session has been ended."), "success")
    return redirect(url_for(f"{blueprint}.sessions"))


def end_others(blueprint: str) -> Any:
    """ "Log out everywhere else": every session of the login but this one ends."""
    validate_csrf_or_400()
    count = logins.end_sessions(current_user._get_current_object(), keep=current_session_id())
    if count:
        flash(_l("All your other sessions have been ended."), "success")
    else:
        flash(_l("You have no other sessions."), "info")
    return redirect(url_for(f"{blueprint}.sessions"))
